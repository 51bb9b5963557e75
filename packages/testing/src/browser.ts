/**
 * Headless Chromium for the dashboard's browser tests: Debian's `chromium` package (installed by
 * the project's setup script), driven by playwright-core, which brings no browser of its own and
 * downloads nothing. CHROMIUM_PATH points at another binary. playwright-core is imported on the
 * first launch only: it takes about a second to load, which the other tests need not pay.
 */
import type { Browser } from "playwright-core";

/** Where Debian's package puts the browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A headless Chromium; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
}
