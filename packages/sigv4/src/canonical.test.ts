import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  calculateSignature,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatAmzDate,
  formatScope,
  stringToSign,
  uriEncode,
} from "./canonical.ts";
import { nobleCryptoProvider } from "./crypto.ts";
import { toHex, utf8 } from "./encoding.ts";
import { SigV4Error } from "./errors.ts";
import { nodeCryptoProvider } from "./node.ts";
import { deriveSigningKey } from "./signing-key.ts";

const codeOf = (action: () => unknown): string => {
  try {
    action();
    return "ok";
  } catch (error) {
    return SigV4Error.is(error) ? error.code : "untyped";
  }
};

describe("uriEncode", () => {
  it("keeps the unreserved set and encodes every other UTF-8 byte with upper-case hex", () => {
    expect(uriEncode("AZaz09-_.~")).toBe("AZaz09-_.~");
    expect(uriEncode(" !'()*+,;=:@$&/?#[]%")).toBe(
      "%20%21%27%28%29%2A%2B%2C%3B%3D%3A%40%24%26%2F%3F%23%5B%5D%25",
    );
    expect(uriEncode("é ሴ 😀")).toBe("%C3%A9%20%E1%88%B4%20%F0%9F%98%80");
  });
  it("keeps / only when encodeSlash is false", () => {
    expect(uriEncode("a/b")).toBe("a%2Fb");
    expect(uriEncode("a/b", { encodeSlash: false })).toBe("a/b");
  });
  it("never decodes: % is data", () => {
    expect(uriEncode("%41")).toBe("%2541");
  });
  it("rejects a lone surrogate with a typed error", () => {
    expect(codeOf(() => uriEncode("a\ud800b"))).toBe("InvalidRequest");
    expect(codeOf(() => uriEncode("\udc00"))).toBe("InvalidRequest");
  });
});

describe("canonicalUri (S3 rules by default)", () => {
  it("decodes once and encodes once, so an encoded key is not encoded again", () => {
    expect(canonicalUri("/a%20b")).toBe("/a%20b");
    expect(canonicalUri("/a b")).toBe("/a%20b");
    expect(canonicalUri("/test$file.text")).toBe("/test%24file.text");
    expect(canonicalUri("/%7e%41")).toBe("/~A");
    expect(canonicalUri("/a%2fb")).toBe("/a/b");
  });
  it("keeps //, . and .. segments exactly as sent", () => {
    expect(canonicalUri("//a/./b/../c//")).toBe("//a/./b/../c//");
    expect(canonicalUri("/..")).toBe("/..");
  });
  it("encodes +, =, :, % and Unicode in keys the way the AWS SDKs do", () => {
    expect(canonicalUri("/b/a+b=c:d%25e")).toBe("/b/a%2Bb%3Dc%3Ad%25e");
    expect(canonicalUri("/ሴ/%E1%88%B4")).toBe("/%E1%88%B4/%E1%88%B4");
  });
  it("gives / for an empty path", () => {
    expect(canonicalUri("")).toBe("/");
  });
  it("rejects an invalid percent-escape with InvalidRequest, never a crash", () => {
    for (const path of ["/%", "/%4", "/%zz", "/a%g1"]) {
      expect(codeOf(() => canonicalUri(path))).toBe("InvalidRequest");
    }
  });
  it("double-encodes and normalises for other services when asked", () => {
    expect(canonicalUri("/a%20b", { doubleEncode: true })).toBe("/a%2520b");
    expect(canonicalUri("//example//", { doubleEncode: true, normalize: true })).toBe("/example/");
    expect(canonicalUri("/example/..", { doubleEncode: true, normalize: true })).toBe("/");
    expect(canonicalUri("/./a/./b", { normalize: true })).toBe("/a/b");
    expect(canonicalUri("//example//", { doubleEncode: true })).toBe("//example//");
  });
});

describe("canonicalQuery", () => {
  it("treats a literal + as a plus, not a space", () => {
    expect(canonicalQuery("a=b+c")).toBe("a=b%2Bc");
    expect(canonicalQuery("a=b%20c")).toBe("a=b%20c");
  });
  it("gives a valueless name an empty value", () => {
    expect(canonicalQuery("lifecycle")).toBe("lifecycle=");
    expect(canonicalQuery("a=")).toBe("a=");
  });
  it("sorts by encoded name, then by encoded value, keeping repeated names", () => {
    expect(canonicalQuery("b=2&a=2&a=1&A=3")).toBe("A=3&a=1&a=2&b=2");
    expect(canonicalQuery("Param1=value2&Param1=Value1")).toBe("Param1=Value1&Param1=value2");
    // "a" sorts before "a-b" by name: a joined "a=…" string sort would put "a-b=" first.
    expect(canonicalQuery("a-b=1&a=2")).toBe("a=2&a-b=1");
  });
  it("decodes each component once and re-encodes it", () => {
    expect(canonicalQuery("%E1%88%B4=Value1&ሴ=x")).toBe("%E1%88%B4=Value1&%E1%88%B4=x");
    expect(canonicalQuery("k=%2541&k2=a%3Db")).toBe("k=%2541&k2=a%3Db");
    expect(canonicalQuery("k=a=b")).toBe("k=a%3Db");
    expect(canonicalQuery("prefix=a/b&x=!*")).toBe("prefix=a%2Fb&x=%21%2A");
  });
  it("pairs each name with its own value when valueless names precede later pairs", () => {
    expect(canonicalQuery("a&b=1&c&d=x=y&e")).toBe("a=&b=1&c=&d=x%3Dy&e=");
  });
  it("splits a huge query of valueless names in linear time", () => {
    const query = "a&".repeat(500_000);
    const startedMs = performance.now();
    expect(canonicalQuery(`${query}z=1`).endsWith("&z=1")).toBe(true);
    // Quadratic scanning took 6–9 s here; linear takes tens of milliseconds.
    expect(performance.now() - startedMs).toBeLessThan(3_000);
  });
  it("skips empty pieces and drops excluded names", () => {
    expect(canonicalQuery("&a=1&&b=2&")).toBe("a=1&b=2");
    expect(canonicalQuery("a=1&X-Amz-Signature=f00", { exclude: ["X-Amz-Signature"] })).toBe("a=1");
    expect(canonicalQuery("")).toBe("");
  });
  it("rejects an invalid percent-escape with InvalidRequest", () => {
    expect(codeOf(() => canonicalQuery("a=%"))).toBe("InvalidRequest");
    expect(codeOf(() => canonicalQuery("%x1=b"))).toBe("InvalidRequest");
  });
});

describe("canonicalHeaders", () => {
  it("lower-cases names, trims values and folds inner whitespace runs", () => {
    const headers: Array<[string, string]> = [
      ["Host", "example.com"],
      ["My-Header2", '  "a   b \t c"  '],
      ["X-Multi", "value1\n  value2\n     value3"],
    ];
    expect(canonicalHeaders(headers, ["host", "my-header2", "x-multi"])).toBe(
      'host:example.com\nmy-header2:"a b c"\nx-multi:value1 value2 value3\n',
    );
  });
  it("joins repeated headers with commas in wire order", () => {
    const headers: Array<[string, string]> = [
      ["My-Header1", "value2"],
      ["my-header1", " value2 "],
      ["MY-HEADER1", "value1"],
    ];
    expect(canonicalHeaders(headers, ["my-header1"])).toBe("my-header1:value2,value2,value1\n");
  });
  it("keeps the order of the signed header list", () => {
    const headers: Array<[string, string]> = [
      ["b", "2"],
      ["a", "1"],
    ];
    expect(canonicalHeaders(headers, ["a", "b"])).toBe("a:1\nb:2\n");
  });
});

describe("canonicalRequest, stringToSign, signature", () => {
  // The S3 docs GET Object example.
  const creq = canonicalRequest({
    method: "GET",
    canonicalUri: "/test.txt",
    canonicalQuery: "",
    canonicalHeaders:
      "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n",
    signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"],
    payloadHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  });
  const scope = { date: "20130524", region: "us-east-1", service: "s3" };

  it("hashes the canonical request into the string to sign with either provider", () => {
    const expected =
      "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972";
    expect(stringToSign("20130524T000000Z", scope, creq)).toBe(expected);
    expect(stringToSign("20130524T000000Z", scope, creq, nodeCryptoProvider)).toBe(expected);
  });
  it("signs the string to sign with the derived key", () => {
    const key = deriveSigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", scope);
    const toSign = stringToSign("20130524T000000Z", scope, creq);
    expect(calculateSignature(key, toSign, nobleCryptoProvider)).toBe(
      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    expect(calculateSignature(key, toSign, nodeCryptoProvider)).toBe(
      calculateSignature(key, toSign),
    );
  });
});

describe("formatScope and formatAmzDate", () => {
  it("formats the scope and the timestamp", () => {
    expect(formatScope({ date: "20130524", region: "us-east-1", service: "s3" })).toBe(
      "20130524/us-east-1/s3/aws4_request",
    );
    expect(formatAmzDate(Date.UTC(2013, 4, 24))).toBe("20130524T000000Z");
    expect(formatAmzDate(Date.UTC(2015, 7, 30, 12, 36, 0, 999))).toBe("20150830T123600Z");
  });
  it("rejects a time that has no four-digit year", () => {
    expect(codeOf(() => formatAmzDate(Number.NaN))).toBe("InvalidArgument");
    expect(codeOf(() => formatAmzDate(Date.UTC(10000, 0, 1)))).toBe("InvalidArgument");
  });
});

describe("provider string fast paths", () => {
  it("give the same digests as hashing the UTF-8 bytes, for any text", () => {
    const key = deriveSigningKey("secret", {
      date: "20130524",
      region: "us-east-1",
      service: "s3",
    });
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expect(nodeCryptoProvider.sha256Hex!(text)).toBe(
          toHex(nodeCryptoProvider.sha256(utf8(text))),
        );
        expect(nodeCryptoProvider.hmacSha256Hex!(key, text)).toBe(
          toHex(nobleCryptoProvider.hmacSha256(key, utf8(text))),
        );
        const scope = { date: "20130524", region: "us-east-1", service: "s3" };
        expect(stringToSign("20130524T000000Z", scope, text, nodeCryptoProvider)).toBe(
          stringToSign("20130524T000000Z", scope, text, nobleCryptoProvider),
        );
        expect(calculateSignature(key, text, nodeCryptoProvider)).toBe(
          calculateSignature(key, text, nobleCryptoProvider),
        );
      }),
      { numRuns: 300 },
    );
  });
});
