import { describe, expect, it } from "vitest";
import { getHeader, getHeaderValues, parseLength, parseQuery, queryRecord } from "./http.ts";

describe("raw request helpers", () => {
  it("parses a raw query once: + stays +, names without = are kept, raw text preserved", () => {
    expect(parseQuery("a=1+2&uploads&b=%2F%zz&&c=")).toEqual([
      { raw: "a=1+2", name: "a", value: "1+2", hasValue: true },
      { raw: "uploads", name: "uploads", value: "", hasValue: false },
      { raw: "b=%2F%zz", name: "b", value: "%2F%zz", hasValue: true },
      { raw: "c=", name: "c", value: "", hasValue: true },
    ]);
    expect(parseQuery("")).toEqual([]);
    expect(queryRecord(parseQuery("a=1&a=2&b=3"))).toEqual({ a: "1", b: "3" });
  });

  it("reads headers case-insensitively, keeping repeats", () => {
    const headers = [
      ["X-Amz-Meta-A", "1"],
      ["x-amz-meta-a", "2"],
    ] as const;
    expect(getHeader(headers, "x-AMZ-meta-a")).toBe("1");
    expect(getHeaderValues(headers, "x-amz-meta-a")).toEqual(["1", "2"]);
    expect(getHeader(headers, "host")).toBeUndefined();
  });

  it("accepts only plain decimal lengths", () => {
    expect([
      parseLength("42"),
      parseLength(" 7 "),
      parseLength("-1"),
      parseLength("1e3"),
      parseLength(undefined),
    ]).toEqual([42, 7, undefined, undefined, undefined]);
  });
});
