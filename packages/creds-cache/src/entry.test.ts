import { describe, expect, it } from "vitest";
import { isCacheEntry, withExpiry } from "./entry.ts";

describe("withExpiry", () => {
  it("wraps a value with its expiry and is recognised as an entry", () => {
    const entry = withExpiry("token", { expiresAt: 1_700_000_000_000 });
    expect(entry).toMatchObject({ value: "token", expiresAt: 1_700_000_000_000 });
    expect(isCacheEntry(entry)).toBe(true);
  });

  it("is recognised across copies of the package through a global symbol", () => {
    const foreign = { value: "x", ttlMs: 5, [Symbol.for("@osp/creds-cache.entry")]: true };
    expect(isCacheEntry(foreign)).toBe(true);
  });

  it("does not mistake look-alike objects or primitives for entries", () => {
    expect(isCacheEntry({ value: "x", expiresAt: 1 })).toBe(false);
    expect(isCacheEntry(null)).toBe(false);
    expect(isCacheEntry("value")).toBe(false);
  });

  it.each([{ ttlMs: -1 }, { ttlMs: Number.NaN }, { expiresAt: Number.NaN }])(
    "throws a RangeError for %j",
    (expiry) => {
      expect(() => withExpiry("v", expiry)).toThrow(RangeError);
    },
  );
});
