import { describe, expect, it } from "vitest";
import { parseCopySourceRange, parseRange } from "./range.ts";

describe("parseRange", () => {
  it.each([
    ["bytes=0-9", 100, { kind: "range", start: 0, endInclusive: 9 }],
    ["bytes=90-", 100, { kind: "range", start: 90, endInclusive: 99 }],
    ["bytes=90-1000", 100, { kind: "range", start: 90, endInclusive: 99 }],
    ["bytes=-10", 100, { kind: "range", start: 90, endInclusive: 99 }],
    ["bytes=-1000", 100, { kind: "range", start: 0, endInclusive: 99 }],
    ["bytes=100-", 100, { kind: "unsatisfiable" }],
    ["bytes=-0", 100, { kind: "unsatisfiable" }],
    ["bytes=0-", 0, { kind: "unsatisfiable" }],
    ["bytes=5-2", 100, { kind: "whole" }],
    ["bytes=0-1,5-6", 100, { kind: "whole" }],
    ["items=0-1", 100, { kind: "whole" }],
    ["bytes=-", 100, { kind: "whole" }],
  ] as const)("interprets %s on %i bytes", (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it("serves the whole object without a header", () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: "whole" });
  });
});

describe("parseCopySourceRange", () => {
  it("accepts a range inside the source", () => {
    expect(parseCopySourceRange("bytes=0-9", 10)).toEqual({ start: 0, endInclusive: 9 });
  });

  it("rejects open, reversed and out-of-bounds ranges", () => {
    expect(parseCopySourceRange("bytes=0-", 10)).toBeUndefined();
    expect(parseCopySourceRange("bytes=5-4", 10)).toBeUndefined();
    expect(parseCopySourceRange("bytes=0-10", 10)).toBeUndefined();
  });
});
