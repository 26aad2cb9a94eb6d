import { describe, expect, it } from "vitest";
import { nodeCryptoProvider } from "./node.ts";
import { createSigningKeyCache, deriveSigningKey } from "./signing-key.ts";
import { toHex } from "./encoding.ts";

// AWS General Reference worked example of the key derivation.
const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const scope = { date: "20120215", region: "us-east-1", service: "iam" };
const expected = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d";

describe("deriveSigningKey", () => {
  it("reproduces the AWS documentation example with the default provider", () => {
    expect(toHex(deriveSigningKey(secret, scope))).toBe(expected);
  });
  it("gives the same key with the node:crypto provider", () => {
    expect(toHex(deriveSigningKey(secret, scope, nodeCryptoProvider))).toBe(expected);
  });
});

describe("createSigningKeyCache", () => {
  it("returns the same key object on a hit and evicts the least recently used", () => {
    const cache = createSigningKeyCache({ maxEntries: 2 });
    const a = cache.get(secret, scope);
    expect(cache.get(secret, scope)).toBe(a);
    cache.get("other", scope);
    cache.get(secret, scope); // touch: "other" is now the oldest
    cache.get("third", scope);
    expect(cache.size).toBe(2);
    expect(cache.get(secret, scope)).toBe(a);
  });
  it("never serves a key for a different secret, date, region or service", () => {
    const cache = createSigningKeyCache();
    const base = toHex(cache.get(secret, scope));
    expect(toHex(cache.get(`${secret}x`, scope))).not.toBe(base);
    expect(toHex(cache.get(secret, { ...scope, date: "20120216" }))).not.toBe(base);
    expect(toHex(cache.get(secret, { ...scope, region: "eu-west-1" }))).not.toBe(base);
    expect(toHex(cache.get(secret, { ...scope, service: "s3" }))).not.toBe(base);
  });
});
