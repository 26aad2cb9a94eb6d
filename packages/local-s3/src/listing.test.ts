import { describe, expect, it } from "vitest";
import {
  compareKeys,
  decodeContinuationToken,
  encodeContinuationToken,
  listPage,
  urlEncodeKey,
} from "./listing.ts";

describe("compareKeys", () => {
  it("orders by UTF-8 bytes, putting astral characters after U+E000–U+FFFF", () => {
    const keys = ["😀", "\uffff", "a", "B", "é", "\ue000"];
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    expect(compareKeys("ab", "a")).toBeGreaterThan(0);
    expect(compareKeys("a", "a")).toBe(0);
  });
});

describe("listPage", () => {
  const keys = ["a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "d"].sort(compareKeys);

  it("lists everything in order without a delimiter", () => {
    const page = listPage(keys, { prefix: "", delimiter: "", maxKeys: 1000 });
    expect(page.keys).toEqual(keys);
    expect(page.isTruncated).toBe(false);
  });

  it("rolls keys under a delimiter into common prefixes", () => {
    const page = listPage(keys, { prefix: "", delimiter: "/", maxKeys: 1000 });
    expect(page.keys).toEqual(["b", "d"]);
    expect(page.commonPrefixes).toEqual(["a/", "c/"]);
  });

  it("applies the prefix before the delimiter", () => {
    const page = listPage(keys, { prefix: "a/", delimiter: "/", maxKeys: 1000 });
    expect(page.keys).toEqual(["a/1", "a/2"]);
    expect(page.commonPrefixes).toEqual(["a/b/"]);
  });

  it("pages with a common prefix counting as one entry and resumes after it", () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let round = 0; round < 10; round++) {
      const page = listPage(keys, {
        prefix: "",
        delimiter: "/",
        maxKeys: 1,
        ...(after != null ? { after } : {}),
      });
      seen.push(...page.keys, ...page.commonPrefixes);
      if (!page.isTruncated) break;
      after = page.lastEntry;
    }
    expect(seen).toEqual(["a/", "b", "c/", "d"]);
  });

  it("reports truncation only when another entry follows", () => {
    expect(listPage(keys, { prefix: "", delimiter: "", maxKeys: keys.length }).isTruncated).toBe(
      false,
    );
    expect(
      listPage(keys, { prefix: "", delimiter: "", maxKeys: keys.length - 1 }).isTruncated,
    ).toBe(true);
  });

  it("returns nothing for max-keys 0", () => {
    expect(listPage(keys, { prefix: "", delimiter: "", maxKeys: 0 })).toEqual({
      keys: [],
      commonPrefixes: [],
      isTruncated: false,
    });
  });

  it("starts strictly after a marker", () => {
    expect(listPage(keys, { prefix: "", delimiter: "", maxKeys: 2, after: "a/2" }).keys).toEqual([
      "a/b/3",
      "b",
    ]);
  });
});

describe("urlEncodeKey", () => {
  it("percent-encodes UTF-8, keeps / and writes space as +", () => {
    expect(urlEncodeKey("dir/a b+c%d€")).toBe("dir/a+b%2Bc%25d%E2%82%AC");
    expect(urlEncodeKey("x\u0001'(*)")).toBe("x%01%27%28%2A%29");
  });
});

describe("continuation tokens", () => {
  it("round-trip any key and reject foreign tokens", () => {
    const key = "päth/with spaces/😀";
    expect(decodeContinuationToken(encodeContinuationToken(key))).toBe(key);
    expect(decodeContinuationToken("bm90LW91cnM=")).toBeUndefined();
  });
});
