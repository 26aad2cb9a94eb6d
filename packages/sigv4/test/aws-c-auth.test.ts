// Every aws-c-auth v4 case, header and query form, at every stage; then the signed requests
// verify at their timestamp and each single mutation is refused with the right code. These are
// generic SigV4 cases (service "service"): double encoding, normalisation per context.
import { describe, expect, it } from "vitest";
import { uriEncode } from "../src/canonical.ts";
import { EMPTY_SHA256 } from "../src/constants.ts";
import { SigV4Error } from "../src/errors.ts";
import { nodeCryptoProvider } from "../src/node.ts";
import { parseAuthorization, type ParsedAuthorization } from "../src/parse-authorization.ts";
import { presignRequest } from "../src/presign.ts";
import { signRequest } from "../src/sign.ts";
import type { RawRequest } from "../src/types.ts";
import { verifyRequest, type VerifyOptions } from "../src/verify.ts";
import {
  awsCAuthCases,
  headerSet,
  parseHttp,
  querySet,
  sha256Hex,
  type AwsCAuthCase,
} from "./vectors.ts";

const cases = awsCAuthCases();
const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;

const signingSetup = (testCase: AwsCAuthCase) => {
  const { context } = testCase;
  const omitToken = context.omit_session_token === true;
  return {
    credentials: {
      accessKeyId: context.credentials.access_key_id,
      secretAccessKey: context.credentials.secret_access_key,
      ...(context.credentials.token !== undefined && !omitToken
        ? { sessionToken: context.credentials.token }
        : {}),
    },
    region: context.region,
    service: context.service,
    now: Date.parse(context.timestamp),
    payloadHash: context.sign_body ? sha256Hex(testCase.request.body) : EMPTY_SHA256,
    signedHeaders: () => true,
    uriOptions: { normalize: context.normalize, doubleEncode: true },
    lateToken: omitToken ? context.credentials.token : undefined,
  };
};

const verifyOptionsFor = (testCase: AwsCAuthCase): VerifyOptions => {
  const { context } = testCase;
  return {
    lookupSecret: (accessKeyId) =>
      accessKeyId === context.credentials.access_key_id
        ? context.credentials.secret_access_key
        : undefined,
    now: Date.parse(context.timestamp),
    region: context.region,
    service: context.service,
    uriOptions: { normalize: context.normalize, doubleEncode: true },
    // Generic SigV4: the body hash is signed but not always sent.
    defaultPayloadHash: context.sign_body ? sha256Hex(testCase.request.body) : EMPTY_SHA256,
  };
};

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return "verified";
  } catch (error) {
    if (SigV4Error.is(error)) return error.code;
    throw error;
  }
};

const withHeader = (request: RawRequest, name: string, value: string): RawRequest => ({
  ...request,
  headers: [...request.headers, [name, value]],
});

const replaceHeader = (request: RawRequest, lowerName: string, value: string): RawRequest => ({
  ...request,
  headers: request.headers.map(([n, v]) => (n.toLowerCase() === lowerName ? [n, value] : [n, v])),
});

const withoutHeader = (request: RawRequest, lowerName: string): RawRequest => ({
  ...request,
  headers: request.headers.filter(([n]) => n.toLowerCase() !== lowerName),
});

/** Changes one hex digit of a hex string at `index` (to a different digit). */
const flipHex = (hex: string, index = 0): string =>
  `${hex.slice(0, index)}${hex[index] === "0" ? "1" : "0"}${hex.slice(index + 1)}`;

describe("aws-c-auth-v4 vectors", () => {
  it("finds all 38 cases", () => {
    expect(cases).toHaveLength(38);
  });

  for (const testCase of cases) {
    describe(testCase.name, () => {
      const setup = signingSetup(testCase);
      const { lateToken, ...options } = setup;

      it("signs the header form at every stage", () => {
        const signed = signRequest(testCase.request, {
          ...options,
          addContentSha256Header: testCase.context.sign_body,
        });
        expect(signed.canonicalRequest).toBe(testCase.file("header-canonical-request.txt"));
        expect(signed.stringToSign).toBe(testCase.file("header-string-to-sign.txt"));
        expect(signed.signature).toBe(testCase.file("header-signature.txt"));
        const expected = parseHttp(testCase.file("header-signed-request.txt"));
        const expectedAuthorization = expected.headers.find(
          ([name]) => name.toLowerCase() === "authorization",
        )![1];
        expect(signed.authorization).toBe(expectedAuthorization);
        const headers =
          lateToken === undefined
            ? signed.headers
            : [...signed.headers, ["X-Amz-Security-Token", lateToken] as [string, string]];
        expect(headerSet(headers)).toEqual(headerSet(expected.headers));
      });

      it("presigns the query form at every stage", () => {
        const presigned = presignRequest(testCase.request, {
          ...options,
          expiresInSeconds: testCase.context.expiration_in_seconds,
          includePayloadHashParam: false,
        });
        expect(presigned.canonicalRequest).toBe(testCase.file("query-canonical-request.txt"));
        expect(presigned.stringToSign).toBe(testCase.file("query-string-to-sign.txt"));
        expect(presigned.signature).toBe(testCase.file("query-signature.txt"));
        const expected = parseHttp(testCase.file("query-signed-request.txt"));
        const query =
          lateToken === undefined
            ? presigned.query
            : `${presigned.query}&X-Amz-Security-Token=${uriEncode(lateToken)}`;
        expect(querySet(query)).toEqual(querySet(expected.query));
      });

      const headerSigned = parseHttp(testCase.file("header-signed-request.txt"));
      const querySigned = parseHttp(testCase.file("query-signed-request.txt"));
      const verifyOptions = verifyOptionsFor(testCase);
      const timestamp = verifyOptions.now;

      if (lateToken !== undefined) {
        // The token was added after signing: an unsigned x-amz-* header, and an unsigned query
        // parameter. Policy: both are refused (S3 does the same).
        it("refuses the token added after signing, in both forms", async () => {
          expect(await codeOf(verifyRequest(headerSigned, verifyOptions))).toBe("AccessDenied");
          expect(await codeOf(verifyRequest(querySigned, verifyOptions))).toBe(
            "SignatureDoesNotMatch",
          );
          const withoutToken = withoutHeader(headerSigned, "x-amz-security-token");
          expect((await verifyRequest(withoutToken, verifyOptions)).sessionToken).toBeUndefined();
        });
        return;
      }

      it("verifies the signed header request at its timestamp, with either provider", async () => {
        for (const crypto of [undefined, nodeCryptoProvider]) {
          const verified = await verifyRequest(headerSigned, { ...verifyOptions, crypto });
          expect(verified.kind).toBe("header");
          expect(verified.canonicalRequest).toBe(testCase.file("header-canonical-request.txt"));
          expect(verified.sessionToken).toBe(testCase.context.credentials.token);
        }
      });

      it("verifies the presigned request from its timestamp until it expires", async () => {
        const expiresMs = testCase.context.expiration_in_seconds * 1000;
        for (const now of [timestamp - FIFTEEN_MINUTES_MS, timestamp, timestamp + expiresMs]) {
          const verified = await verifyRequest(querySigned, { ...verifyOptions, now });
          expect(verified.kind).toBe("query");
          expect(verified.canonicalRequest).toBe(testCase.file("query-canonical-request.txt"));
        }
      });

      it("refuses the header request outside ±15 minutes and the presigned one after expiry", async () => {
        for (const now of [
          timestamp + FIFTEEN_MINUTES_MS + 1,
          timestamp - FIFTEEN_MINUTES_MS - 1,
          timestamp + 60 * 60 * 1000, // a captured request replayed an hour later
        ]) {
          expect(await codeOf(verifyRequest(headerSigned, { ...verifyOptions, now }))).toBe(
            "RequestTimeTooSkewed",
          );
        }
        for (const now of [timestamp + FIFTEEN_MINUTES_MS, timestamp - FIFTEEN_MINUTES_MS]) {
          expect(await codeOf(verifyRequest(headerSigned, { ...verifyOptions, now }))).toBe(
            "verified",
          );
        }
        const expiresMs = testCase.context.expiration_in_seconds * 1000;
        expect(
          await codeOf(
            verifyRequest(querySigned, { ...verifyOptions, now: timestamp + expiresMs + 1 }),
          ),
        ).toBe("AccessDenied");
        expect(
          await codeOf(
            verifyRequest(querySigned, {
              ...verifyOptions,
              now: timestamp - FIFTEEN_MINUTES_MS - 1,
            }),
          ),
        ).toBe("RequestTimeTooSkewed");
      });

      it("refuses an unsigned x-amz-* header added to the captured request", async () => {
        for (const request of [headerSigned, querySigned]) {
          const tampered = withHeader(request, "x-amz-acl", "public-read-write");
          const error = await verifyRequest(tampered, verifyOptions).catch((e: unknown) => e);
          expect(SigV4Error.is(error) && error.code).toBe("AccessDenied");
          expect((error as Error).message).toContain("x-amz-acl");
        }
      });

      it("refuses each single mutation of the signed header request", async () => {
        const parsed = parseAuthorization(headerSigned, verifyOptions) as ParsedAuthorization;
        const mutants: Array<[string, RawRequest]> = [
          ["method", { ...headerSigned, method: headerSigned.method === "GET" ? "PUT" : "GET" }],
          ["path", { ...headerSigned, path: `${headerSigned.path}x` }],
          ["query pair", { ...headerSigned, query: `${headerSigned.query}&extra=1` }],
          [
            "signature digit",
            replaceHeader(
              headerSigned,
              "authorization",
              headerSigned.headers
                .find(([n]) => n.toLowerCase() === "authorization")![1]
                .replace(
                  /Signature=([0-9a-f]{64})/,
                  (_, sig: string) => `Signature=${flipHex(sig, 63)}`,
                ),
            ),
          ],
          ["date", replaceHeader(headerSigned, "x-amz-date", "20150830T123601Z")],
        ];
        if (headerSigned.query !== "") {
          const [first, ...rest] = headerSigned.query.split("&");
          mutants.push([
            "query value",
            { ...headerSigned, query: [`${first}x`, ...rest].join("&") },
          ]);
        }
        for (const name of parsed.signedHeaders) {
          if (name === "x-amz-date") continue;
          const value = headerSigned.headers.find(([n]) => n.toLowerCase() === name)![1];
          // A hex payload hash stays well-formed, so the signature is what refuses it.
          const changed = /^[0-9a-f]{64}$/.test(value) ? flipHex(value) : `${value}x`;
          mutants.push([`header ${name} value`, replaceHeader(headerSigned, name, changed)]);
          mutants.push([`header ${name} removed`, withoutHeader(headerSigned, name)]);
        }
        for (const [what, mutant] of mutants) {
          expect([what, await codeOf(verifyRequest(mutant, verifyOptions))]).toEqual([
            what,
            "SignatureDoesNotMatch",
          ]);
        }
        // The payload hash: a different body hash claimed by the caller.
        expect(
          await codeOf(
            verifyRequest(headerSigned, {
              ...verifyOptions,
              parsed: { ...parsed, payloadHash: flipHex(parsed.payloadHash) },
            }),
          ),
        ).toBe("SignatureDoesNotMatch");
      });

      it("refuses each single mutation of the presigned request", async () => {
        const query = querySigned.query;
        const mutants: Array<[string, RawRequest]> = [
          ["method", { ...querySigned, method: querySigned.method === "GET" ? "PUT" : "GET" }],
          ["path", { ...querySigned, path: `${querySigned.path}x` }],
          ["extra query pair", { ...querySigned, query: `${query}&extra=1` }],
          [
            "signature digit",
            {
              ...querySigned,
              query: query.replace(
                /X-Amz-Signature=([0-9a-f])/,
                (_, d: string) => `X-Amz-Signature=${d === "0" ? "1" : "0"}`,
              ),
            },
          ],
          [
            "date",
            {
              ...querySigned,
              query: query.replace("X-Amz-Date=20150830T123600Z", "X-Amz-Date=20150830T123601Z"),
            },
          ],
          [
            "expiry",
            { ...querySigned, query: query.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601") },
          ],
        ];
        const parsed = parseAuthorization(querySigned, verifyOptions) as ParsedAuthorization;
        for (const name of parsed.signedHeaders) {
          const value = querySigned.headers.find(([n]) => n.toLowerCase() === name)![1];
          mutants.push([`header ${name} value`, replaceHeader(querySigned, name, `${value}x`)]);
        }
        for (const [what, mutant] of mutants) {
          expect([what, await codeOf(verifyRequest(mutant, verifyOptions))]).toEqual([
            what,
            "SignatureDoesNotMatch",
          ]);
        }
        expect(
          await codeOf(
            verifyRequest(querySigned, {
              ...verifyOptions,
              parsed: { ...parsed, payloadHash: flipHex(parsed.payloadHash) },
            }),
          ),
        ).toBe("SignatureDoesNotMatch");
      });
    });
  }
});
