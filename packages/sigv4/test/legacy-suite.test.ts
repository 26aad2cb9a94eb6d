// The old AWS "Signature Version 4 test suite" (header auth only, service "service", generic
// SigV4 rules), wherever it agrees with aws-c-auth.
import { describe, expect, it } from "vitest";
import { SigV4Error } from "../src/errors.ts";
import { presignRequest } from "../src/presign.ts";
import { signRequest } from "../src/sign.ts";
import { verifyRequest } from "../src/verify.ts";
import { legacyCases, parseHttp, sha256Hex } from "./vectors.ts";

/**
 * Skipped by name, with the reason:
 * - get-header-value-multiline: this suite joins obs-folded lines with commas
 *   (`value1,value2,value3`); aws-c-auth, smithy and RFC 9112 §5.2 replace the fold with a space,
 *   which is what we do (covered by the aws-c-auth case of the same name).
 */
const SKIPPED = new Map([
  [
    "get-header-value-multiline",
    "the suite joins obs-fold lines with commas; RFC 9112 and aws-c-auth use a space",
  ],
]);

const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: secret };
const cases = legacyCases();

describe("aws-sig-v4-test-suite (legacy)", () => {
  it("finds all 31 cases and skips only the documented one", () => {
    expect(cases).toHaveLength(31);
    expect(cases.filter((testCase) => SKIPPED.has(testCase.name)).map((c) => c.name)).toEqual([
      ...SKIPPED.keys(),
    ]);
  });

  for (const testCase of cases.filter((candidate) => !SKIPPED.has(candidate.name))) {
    const request = testCase.request;
    const amzDate = request.headers.find(([name]) => name.toLowerCase() === "x-amz-date")![1];
    const now = Date.parse(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const payloadHash = sha256Hex(request.body);
    const uriOptions = { normalize: true, doubleEncode: true };
    const isAfterToken = testCase.name === "post-sts-header-after";

    it(`${testCase.name}: signs at every stage`, () => {
      const signed = signRequest(request, {
        credentials,
        region: "us-east-1",
        service: "service",
        now,
        payloadHash,
        addContentSha256Header: false,
        signedHeaders: () => true,
        uriOptions,
      });
      expect(signed.canonicalRequest).toBe(testCase.file("creq"));
      expect(signed.stringToSign).toBe(testCase.file("sts"));
      expect(signed.authorization).toBe(testCase.file("authz"));
    });

    it(`${testCase.name}: ${isAfterToken ? "refuses" : "verifies"} the signed request`, async () => {
      const signedRequest = parseHttp(testCase.file("sreq"));
      const outcome = await verifyRequest(signedRequest, {
        lookupSecret: (accessKeyId) => (accessKeyId === "AKIDEXAMPLE" ? secret : undefined),
        now,
        service: "service",
        uriOptions,
        defaultPayloadHash: payloadHash,
      }).then(
        (verified) => verified.canonicalRequest,
        (error: unknown) => (SigV4Error.is(error) ? error.code : error),
      );
      // post-sts-header-after adds the token after signing: an unsigned x-amz-* header.
      expect(outcome).toBe(isAfterToken ? "AccessDenied" : testCase.file("creq"));
    });
  }

  it("presigns a legacy request with the same canonical path and headers as the header form", () => {
    const testCase = cases.find((candidate) => candidate.name === "get-vanilla-query-order-key")!;
    const presigned = presignRequest(testCase.request, {
      credentials,
      region: "us-east-1",
      service: "service",
      now: Date.parse("2015-08-30T12:36:00Z"),
      expiresInSeconds: 60,
      signedHeaders: () => false,
      uriOptions: { normalize: true, doubleEncode: true },
    });
    const headerForm = testCase.file("creq").split("\n");
    // Same path; query sorted by value bytes (Value1 before value2), then the auth parameters.
    expect(presigned.canonicalRequest.split("\n")[1]).toBe(headerForm[1]);
    expect(presigned.canonicalRequest.split("\n")[2]!.startsWith(headerForm[2]!)).toBe(true);
  });
});
