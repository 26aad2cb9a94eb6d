import { describe, expect, it } from "vitest";
import { OspError } from "./errors.ts";
import {
  assertHeaderField,
  getHeader,
  getHeaderValues,
  parseLength,
  parseQuery,
  queryRecord,
  repeatedQueryName,
} from "./http.ts";

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

  it("finds repeated query names: decoded, x-amz-* whatever their case, others exactly", () => {
    expect(repeatedQueryName(parseQuery("list-type=2&prefix=a&prefix=b"))).toBe("prefix");
    expect(repeatedQueryName(parseQuery("prefix=a&pre%66ix=b"))).toBe("prefix");
    expect(repeatedQueryName(parseQuery("acl&acl"))).toBe("acl");
    expect(repeatedQueryName(parseQuery("x-amz-acl=a&X-Amz-Acl=b"))).toBe("X-Amz-Acl");
    // S3 reads other names case-sensitively: distinct parameters.
    expect(repeatedQueryName(parseQuery("prefix=a&Prefix=b"))).toBeUndefined();
    expect(repeatedQueryName(parseQuery("a=1&b=2&uploads"))).toBeUndefined();
    expect(repeatedQueryName(parseQuery(""))).toBeUndefined();
    const ignored = (name: string) => name.toLowerCase() === "x-amz-security-token";
    expect(
      repeatedQueryName(parseQuery("x-amz-security-token=t&X-Amz-Security-Token=t"), ignored),
    ).toBeUndefined();
  });

  it("accepts only token header names and values without CR, LF or NUL", () => {
    const codeOf = (name: string, value: string): string | undefined => {
      try {
        assertHeaderField(name, value);
      } catch (error) {
        return OspError.is(error) ? error.code : "not an OspError";
      }
      return undefined;
    };
    expect(codeOf("x-amz-meta-note", "a b\tc, d; é")).toBeUndefined();
    expect(codeOf("Content-Type", "")).toBeUndefined();
    for (const value of ["a\r\nx-injected: 1", "a\nb", "a\rb", "a\0b"]) {
      expect(codeOf("x-amz-meta-note", value)).toBe("InvalidArgument");
    }
    for (const name of ["", "x-amz-meta a", "x-amz-meta-a:", "authorization ", "x\r\ny", "ü"]) {
      expect(codeOf(name, "v")).toBe("InvalidArgument");
    }
  });
});
