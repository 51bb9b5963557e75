/**
 * The SIEM destinations' SSRF guard: URLs refused when the destination is created (scheme,
 * credentials, literal IPs in private ranges), and names resolving to private addresses refused
 * when connecting, before any byte is sent.
 */
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type LookupFunction } from "node:net";
import { after, describe, it } from "node:test";
import {
  ADDRESS_REFUSED,
  checkDestinationUrl,
  destinationLookup,
  guardedLookup,
  refusedRange,
} from "../../src/sinks/siem/address-guard.ts";
import { createSplunkHecDestination } from "../../src/sinks/siem/splunk-hec.ts";
import { DeliveryError } from "../../src/sinks/siem/types.ts";
import { createWebhookDestination } from "../../src/sinks/siem/webhook.ts";

const SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

function refusal(url: string, allowPrivate = false): string {
  try {
    checkDestinationUrl(url, { allowPrivate });
  } catch (err) {
    assert.ok(err instanceof RangeError);
    return err.message;
  }
  assert.fail(`${url} was accepted`);
}

/** What `lookup` answers for `host`: addresses, or the error. */
function resolve(
  lookup: LookupFunction,
  host: string,
  all: boolean,
): Promise<{ err: NodeJS.ErrnoException | null; address: unknown }> {
  return new Promise((done) => {
    lookup(host, { all }, (err, address) => done({ err, address }));
  });
}

describe("checkDestinationUrl", () => {
  it("refuses literal addresses in loopback, private, link-local, CGNAT, unspecified, multicast and mapped ranges", () => {
    const cases: [string, RegExp][] = [
      ["https://127.0.0.1/", /loopback/],
      ["https://127.1.2.3:8443/x", /loopback/],
      ["https://0x7f.1/", /loopback/],
      ["https://[::1]/", /loopback/],
      ["https://10.1.2.3/", /private/],
      ["https://172.16.0.1/", /private/],
      ["https://172.31.255.255/", /private/],
      ["https://192.168.1.1/", /private/],
      ["https://[fd00::1]/", /private/],
      ["https://169.254.169.254/latest/meta-data/", /link-local/],
      ["https://[fe80::1]/", /link-local/],
      ["https://100.64.0.1/", /carrier-grade NAT/],
      ["https://0.0.0.0/", /unspecified/],
      ["https://[::]/", /unspecified/],
      ["https://224.0.0.1/", /multicast/],
      ["https://[ff02::1]/", /multicast/],
      ["https://[::ffff:127.0.0.1]/", /loopback, embedded in IPv6/],
      ["https://[::ffff:169.254.169.254]/", /link-local/],
      ["https://[64:ff9b::10.0.0.1]/", /private, embedded/],
      ["https://[2002:c0a8:101::1]/", /private, embedded/],
    ];
    for (const [url, why] of cases) {
      const message = refusal(url);
      assert.match(message, why, url);
      assert.match(message, /allowed onto private networks/, url);
    }
  });

  it("refuses http:, other schemes and credentials, without quoting the credentials", () => {
    assert.match(refusal("http://93.184.216.34/hook"), /must be https:/);
    assert.match(refusal("ftp://example.com/"), /must be https:/);
    assert.match(refusal("not a url"), /not a valid absolute URL/);
    const message = refusal("https://user:s3cr3tpass@example.com/hook");
    assert.match(message, /credentials/);
    assert.ok(!message.includes("s3cr3tpass"));
    assert.match(refusal("http://u:p@127.0.0.1/", true), /credentials/);
  });

  it("accepts a public literal, a name (checked at connection time), and private http: when allowed", () => {
    assert.equal(
      checkDestinationUrl("https://93.184.216.34/hook", { allowPrivate: false }).host,
      "93.184.216.34",
    );
    assert.equal(
      checkDestinationUrl("https://[2606:4700::1111]/", { allowPrivate: false }).hostname,
      "[2606:4700::1111]",
    );
    assert.equal(checkDestinationUrl("https://siem.example.com/in", { allowPrivate: false }).pathname, "/in");
    assert.equal(checkDestinationUrl("http://127.0.0.1:8088", { allowPrivate: true }).port, "8088");
    assert.equal(checkDestinationUrl("http://10.0.0.5/", { allowPrivate: true }).hostname, "10.0.0.5");
  });

  it("judges IPv6 forms by the IPv4 address they carry", () => {
    assert.equal(refusedRange("::ffff:93.184.216.34"), null);
    assert.equal(refusedRange("2606:4700::1111"), null);
    assert.equal(refusedRange("8.8.8.8"), null);
    assert.match(refusedRange("::ffff:7f00:1") ?? "", /loopback/);
    assert.match(refusedRange("64:ff9b::7f00:1") ?? "", /loopback/);
    assert.match(refusedRange("::127.0.0.1") ?? "", /IPv4-compatible/);
  });
});

describe("the lookup guard", () => {
  it("refuses a name resolving to loopback (localhost), with or without all", async () => {
    for (const all of [false, true]) {
      const { err } = await resolve(guardedLookup, "localhost", all);
      assert.equal(err?.code, ADDRESS_REFUSED);
      assert.match(err.message, /^localhost resolves to .*loopback/);
    }
  });

  it("lets the same name through for a destination allowed onto private networks", async () => {
    const { err, address } = await resolve(destinationLookup(true), "localhost", false);
    assert.equal(err, null);
    assert.ok(address === "127.0.0.1" || address === "::1");
  });

  describe("on a destination's connections", () => {
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    let connections = 0;
    after(() => new Promise((done) => server.close(done)));

    async function port(): Promise<number> {
      if (!server.listening) await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      return (server.address() as AddressInfo).port;
    }

    it("a webhook to https://localhost is refused before connecting, without retries", async () => {
      const pauses: number[] = [];
      const destination = createWebhookDestination({
        url: `https://localhost:${await port()}/hook`,
        secret: SECRET,
        allowPrivate: false,
        retry: { sleep: (ms) => (pauses.push(ms), Promise.resolve()) },
      });
      const event = {
        id: "e1",
        time: 0,
        module: "copilot" as const,
        kind: "audit_event",
        eventType: null,
        tenant: "t",
        org: "o",
        data: {},
      };
      await assert.rejects(
        destination.send([event]),
        (err: unknown) =>
          err instanceof DeliveryError &&
          /localhost resolves to .*loopback.*\(https:\/\/localhost:\d+\/hook\)$/.test(err.reason) &&
          err.status === undefined,
      );
      assert.equal(connections, 0);
      assert.deepEqual(pauses, []);
    });

    it("a HEC at a loopback literal is refused when created, the token nowhere", () => {
      assert.throws(
        () =>
          createSplunkHecDestination({
            url: "https://127.0.0.1:8088",
            token: "t0k3n-value",
            allowPrivate: false,
          }),
        (err: Error) =>
          err instanceof RangeError && /loopback/.test(err.message) && !err.message.includes("t0k3n"),
      );
    });
  });
});
