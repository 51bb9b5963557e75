/**
 * The fault model both API simulators share. A fault matches a request by path (exact string or
 * RegExp), optionally by method and by a substring of the query string, and fires `times` times
 * (default 1). It either answers with a status of its own (optionally after `delayMs`, with a
 * JSON `body` or a raw `text`), or lets the request through after `delayMs` (a slow response),
 * with its JSON body cut in half (`truncate`) or replaced by `rewrite(body)`.
 *
 * Each simulator adds its own kinds, constructors and default error bodies (src/faults.ts there).
 */
import type { Reply } from "./server.ts";

export interface SimFault<K extends string = string> {
  /** Request path, e.g. `/orgs/acme/audit-log`, or a RegExp tested against the path. */
  path: string | RegExp;
  /** Only requests with this method (case-insensitive). Omitted: any method. */
  method?: string;
  /** Only requests whose query string contains this (raw or decoded), e.g. `after=`. */
  query?: string;
  /** How many matching requests the fault applies to. @default 1 (Infinity: until cleared) */
  times?: number;
  /** Answer with this status instead of the real response. */
  status?: number;
  /** Extra headers on the fault's own response (e.g. retry-after). */
  headers?: Record<string, string>;
  /** Body of the fault's own response, as JSON (`null` included). @default the vendor's error body */
  body?: unknown;
  /** A raw body for the fault's own response instead of JSON (with `contentType`). */
  text?: string;
  /** Content type of `text`. @default "text/plain; charset=utf-8" */
  contentType?: string;
  /** Wait this long first; without `status` the request is then answered normally. */
  delayMs?: number;
  /** Answer normally but with the body cut in half (status 200 stays 200). */
  truncate?: boolean;
  /**
   * Answer normally (status, headers, Link) but with the JSON body replaced by what this returns
   * for the real body. Applies to 200s only.
   */
  rewrite?: (body: unknown) => unknown;
  /** Recorded in `sim.requests[].fault`. Derived from the other fields when omitted. */
  kind?: K;
}

export interface FaultMatch {
  method?: string;
  query?: string;
  times?: number;
}

/** Only the match fields of a constructor's options (no `undefined` keys). */
export function pickMatch(m: FaultMatch | undefined): FaultMatch {
  const out: FaultMatch = {};
  if (m?.method !== undefined) out.method = m.method;
  if (m?.query !== undefined) out.query = m.query;
  if (m?.times !== undefined) out.times = m.times;
  return out;
}

/** The kinds of the constructors every simulator offers. */
export type CommonFaultKind = "slow" | "truncated" | "html" | "rewrite";

/**
 * The constructors every simulator offers, returning its own fault type `F` (so the helpers'
 * types stay the simulator's); `htmlPage` is its login page for `html`.
 */
export function commonFaults<F extends SimFault>(htmlPage: string) {
  // F only adds optional fields and kinds to SimFault, so a common fault is an F.
  const fault = (f: SimFault<CommonFaultKind>) => f as F;
  return {
    /** Waits `delayMs`, then answers normally: lets a client's timeout fire. */
    slow(path: string | RegExp, delayMs: number, options?: FaultMatch): F {
      return fault({ path, ...pickMatch(options), kind: "slow", delayMs });
    },
    /** Answers normally with the JSON body cut in half. */
    truncated(path: string | RegExp, options?: FaultMatch): F {
      return fault({ path, ...pickMatch(options), kind: "truncated", truncate: true });
    },
    /** 200 `text/html` (a login page by default): a body that is not JSON at all. */
    html(path: string | RegExp, options: FaultMatch & { status?: number; text?: string } = {}): F {
      return fault({
        path,
        ...pickMatch(options),
        kind: "html",
        status: options.status ?? 200,
        text: options.text ?? htmlPage,
        contentType: "text/html; charset=utf-8",
      });
    },
    /**
     * The real answer with its JSON body passed through `fn`: keeps the headers (a Link goes on),
     * e.g. `(b) => ({ ...b, total_seats: 999 })`, or an object where a list belongs.
     */
    rewrite(path: string | RegExp, fn: (body: unknown) => unknown, options?: FaultMatch): F {
      return fault({ path, ...pickMatch(options), kind: "rewrite", rewrite: fn });
    },
  };
}

export function faultMatches(f: SimFault, method: string, path: string, rawQuery: string): boolean {
  if (typeof f.path === "string" ? f.path !== path : !f.path.test(path)) return false;
  if (f.method !== undefined && f.method.toUpperCase() !== method.toUpperCase()) return false;
  if (f.query !== undefined) {
    let decoded = rawQuery;
    try {
      decoded = decodeURIComponent(rawQuery.replace(/\+/g, " "));
    } catch {
      // keep the raw form
    }
    if (!rawQuery.includes(f.query) && !decoded.includes(f.query)) return false;
  }
  return true;
}

/**
 * The reply of a fault that has a `status` (undefined for one that lets the request through):
 * its raw `text`, else its JSON `body`, else `defaultBody(status)`.
 */
export function faultReply(f: SimFault, defaultBody: (status: number) => unknown): Reply | undefined {
  if (f.status === undefined) return undefined;
  const headers = { ...f.headers };
  if (f.text !== undefined) {
    const contentType = f.contentType ?? "text/plain; charset=utf-8";
    return { status: f.status, text: f.text, contentType, headers };
  }
  // `body: null` is a body of its own (JSON null), not "no body".
  const body = Object.hasOwn(f, "body") ? f.body : defaultBody(f.status);
  return { status: f.status, body, headers };
}

/** The faults injected into one simulator: the first that matches a request applies. */
/** The faults injected into one simulator: the first that matches a request applies. */
export interface FaultQueue<F extends SimFault> {
  readonly inject: (fault: F) => void;
  readonly clear: () => void;
  /**
   * Takes the first fault matching the request (one of its `times` used up), names its kind in
   * `record.fault` and waits its `delayMs`. Undefined when none matches.
   */
  readonly apply: (
    record: { method: string; path: string; fault?: string },
    rawQuery: string,
  ) => Promise<F | undefined>;
  /** Cancels the delays under way (on close: their requests are never answered). */
  readonly cancel: () => void;
}

/** `kindOf` names a fault for the request log (its `kind`, or one derived from its fields). */
export function faultQueue<F extends SimFault>(kindOf: (f: F) => string): FaultQueue<F> {
  const faults: F[] = [];
  const timers = new Set<NodeJS.Timeout>();

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  return {
    inject: (fault) => void faults.push({ ...fault }),
    clear: () => void faults.splice(0),
    apply: async (record, rawQuery) => {
      const fault = faults.find((f) => faultMatches(f, record.method, record.path, rawQuery));
      if (!fault) return undefined;
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
      record.fault = kindOf(fault);
      if (fault.delayMs) await sleep(fault.delayMs);
      return fault;
    },
    cancel: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
