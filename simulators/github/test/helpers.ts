/** Small client helpers for the simulator tests. */
import type { GithubSimulator } from "@aiaudit/sim-github";

export const TOKEN = "ghp_simulatortoken000000000000000000";

export function client(sim: () => GithubSimulator, token = TOKEN) {
  return (pathOrUrl: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
    fetch(pathOrUrl.startsWith("http") ? pathOrUrl : `${sim().url}${pathOrUrl}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "user-agent": "sim-test", ...headers },
    });
}

/** The URLs of a Link header by rel. */
export function links(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (res.headers.get("link") ?? "").matchAll(/<([^>]+)>;\s*rel="(\w+)"/g)) {
    if (m[1] && m[2]) out[m[2]] = m[1];
  }
  return out;
}

export type Event = Record<string, unknown> & { "@timestamp": number; _document_id: string; action: string };

/** Follows rel="next" from `first` and returns every item in order plus the responses. */
export async function followAll(
  get: (url: string) => Promise<Response>,
  first: string,
): Promise<{ items: Event[]; pages: Response[] }> {
  const items: Event[] = [];
  const pages: Response[] = [];
  let url: string | undefined = first;
  while (url) {
    const res = await get(url);
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    pages.push(res);
    items.push(...((await res.json()) as Event[]));
    url = links(res).next;
    if (pages.length > 1000) throw new Error("pagination does not end");
  }
  return { items, pages };
}
