/**
 * The SIEM destinations' SSRF guard (docs/siem.md): a destination's URL is a tenant's input, and
 * the snapshotter sits inside the deployment's network, next to ClickHouse, Kafka and the cloud's
 * metadata endpoint. Unless a destination is explicitly allowed onto private networks (a lab
 * Splunk), it must be HTTPS and must reach a public address only.
 *
 * Two checks, because either alone can be got round:
 * - `checkDestinationUrl` when the destination is created: scheme, credentials, a literal IP;
 * - `destinationLookup` on every connection: a hostname resolving to a refused address is refused
 *   when the socket connects, not when the URL was checked, so a DNS answer that changes between
 *   the two (DNS rebinding) gains nothing.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/** The code of the error `guardedLookup` fails a connection with. */
export const ADDRESS_REFUSED = "ERR_SIEM_ADDRESS_REFUSED";

type Range = [network: string, prefix: number, name: string];
const V4: Range[] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-grade NAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved or broadcast"],
];
const V6: Range[] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["::", 96, "IPv4-compatible (deprecated)"],
  ["64:ff9b:1::", 48, "local NAT64"],
  ["100::", 64, "discard"],
  ["2001:db8::", 32, "documentation"],
  ["fc00::", 7, "unique local (private)"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "site-local"],
  ["ff00::", 8, "multicast"],
];

function blockLists(ranges: Range[], type: "ipv4" | "ipv6"): { list: BlockList; name: string }[] {
  return ranges.map(([network, prefix, name]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return { list, name };
  });
}
const REFUSED_V4 = blockLists(V4, "ipv4");
const REFUSED_V6 = blockLists(V6, "ipv6");

/**
 * Why `address` (an IPv4 or IPv6 literal) is not a public address, or null when it is. IPv6 forms
 * that carry an IPv4 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:ab:cd::)
 * are judged by that address.
 */
export function refusedRange(address: string): string | null {
  const family = isIP(address);
  if (family === 4) return rangeOf(address, 4);
  if (family !== 6) return "not an IP address";
  const bytes = ipv6Bytes(address);
  const embedded = embeddedIpv4(bytes);
  if (embedded !== null) {
    const range = rangeOf(embedded, 4);
    return range === null ? null : `${range}, embedded in IPv6`;
  }
  return rangeOf(address, 6);
}

function rangeOf(address: string, family: 4 | 6): string | null {
  const type = family === 4 ? "ipv4" : "ipv6";
  return (family === 4 ? REFUSED_V4 : REFUSED_V6).find((r) => r.list.check(address, type))?.name ?? null;
}

/** The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), or null. */
function embeddedIpv4(b: number[]): string | null {
  const v4 = (at: number) => b.slice(at, at + 4).join(".");
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12);
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return null;
}

/** The 16 bytes of a valid IPv6 literal (checked with `isIP` first); a zone (%eth0) is ignored. */
function ipv6Bytes(address: string): number[] {
  const plain = address.split("%")[0] ?? "";
  const groups = (part: string): number[] => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (g.includes(".")) {
        const [a = 0, b = 0, c = 0, d = 0] = g.split(".").map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const [head = "", tail] = plain.split("::");
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const words = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * The destination's URL, checked: http(s) only, `http:` only for a destination allowed onto
 * private networks, no credentials in it (a secret in a URL ends up in logs), and, unless allowed
 * onto private networks, no literal IP in a refused range. Throws a RangeError saying which rule
 * the URL breaks; the message never quotes the URL (it might carry a secret).
 */
export function checkDestinationUrl(url: string, options: { allowPrivate: boolean }): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError("the destination URL is not a valid absolute URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new RangeError(`the destination URL must be https: (it is ${parsed.protocol})`);
  }
  if (parsed.protocol === "http:" && !options.allowPrivate) {
    throw new RangeError(
      "the destination URL must be https: plain http: is only for a destination allowed onto private networks",
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new RangeError(
      "the destination URL must not carry credentials (user:password@): give the secret instead",
    );
  }
  if (!options.allowPrivate) {
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
    if (isIP(host) !== 0) {
      const range = refusedRange(host);
      if (range !== null) {
        throw new RangeError(
          `the destination ${parsed.host} is a ${range} address: refused unless the destination is allowed onto private networks`,
        );
      }
    }
  }
  return parsed;
}

/**
 * A `lookup` for `net.connect`/`http.request` that resolves with node:dns and fails the connection
 * (error code ADDRESS_REFUSED) when any address the name resolves to is not public: a name with
 * one private address among public ones is refused too, since the connection could go to it.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) {
      callback(err, "", 0);
      return;
    }
    for (const a of addresses) {
      const range = refusedRange(a.address);
      if (range !== null) {
        const refusal: NodeJS.ErrnoException = new Error(
          `${hostname} resolves to ${a.address}, a ${range} address: refused unless the destination is allowed onto private networks`,
        );
        refusal.code = ADDRESS_REFUSED;
        callback(refusal, "", 0);
        return;
      }
    }
    answer(options, addresses, callback);
  });
};

function answer(
  options: LookupOptions,
  addresses: LookupAddress[],
  callback: Parameters<LookupFunction>[2],
): void {
  const first = addresses[0];
  if (options.all === true) callback(null, addresses);
  else if (first === undefined) callback(new Error("no address"), "", 0);
  else callback(null, first.address, first.family);
}

/** The lookup a destination's connections use: the guard, or plain DNS for one allowed onto private networks. */
export function destinationLookup(allowPrivate: boolean): LookupFunction {
  return allowPrivate ? dnsLookup : guardedLookup;
}
