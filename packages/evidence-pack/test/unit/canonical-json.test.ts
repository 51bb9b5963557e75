import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson, compareCodePoints } from "@aiaudit/evidence-pack";

describe("canonicalJson", () => {
  it("sorts keys at every level and writes no whitespace", () =>
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: "x" } }),
      '{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}',
    ));
  it("sorts keys by code point, not by UTF-16 unit", () => {
    // U+1F600 is stored as the surrogates D83D DE00, which sort before U+FF61 in UTF-16.
    assert.equal(canonicalJson({ "\u{1F600}": 1, "\uFF61": 2, B: 3, a: 4 }), '{"B":3,"a":4,"｡":2,"😀":1}');
    assert.ok(compareCodePoints("\uFF61", "\u{1F600}") < 0);
    assert.ok(compareCodePoints("ab", "abc") < 0);
    assert.equal(compareCodePoints("x", "x"), 0);
  });
  it("escapes only what JSON requires: not / nor non-ASCII", () =>
    assert.equal(
      canonicalJson(["a/b", "é", 'q"\\', "\n\t\u0001\u007f"]),
      '["a/b","é","q\\"\\\\","\\n\\t\\u0001\u007f"]',
    ));
  it("keeps integers, null, booleans, empty containers and null-prototype objects", () => {
    assert.equal(
      canonicalJson([0, -5, 9007199254740991, null, false, [], {}]),
      "[0,-5,9007199254740991,null,false,[],{}]",
    );
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 1;
    assert.equal(canonicalJson(bare), '{"k":1}');
  });
  it("rejects non-integer and unsafe numbers", () => {
    for (const n of [1.5, Number.NaN, Infinity, -Infinity, 2 ** 53])
      assert.throws(() => canonicalJson({ n }), TypeError);
  });
  it("rejects undefined anywhere", () => {
    assert.throws(() => canonicalJson(undefined), TypeError);
    assert.throws(() => canonicalJson({ a: undefined }), /\$\.a/);
    assert.throws(() => canonicalJson([1, undefined]), /\$\[1\]/);
  });
  it("rejects non-plain objects and values JSON cannot hold", () => {
    class Row {
      a = 1;
    }
    for (const v of [new Date(0), new Map(), new Row(), Buffer.from("x"), 1n, () => 1, Symbol("s")]) {
      assert.throws(() => canonicalJson({ v }), TypeError);
    }
  });
  it("rejects lone surrogates, which have no UTF-8 form", () => {
    assert.throws(() => canonicalJson("\uD83D"), TypeError);
    assert.throws(() => canonicalJson({ "\uDE00": 1 }), TypeError);
  });
  it("round-trips through JSON.parse to the same text", () => {
    const text = canonicalJson({ z: [1, { y: "ü/\u2028" }], a: "" });
    assert.equal(canonicalJson(JSON.parse(text)), text);
  });
});
