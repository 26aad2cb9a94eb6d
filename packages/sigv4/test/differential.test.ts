// Differential tests: generated S3 requests with hostile keys, queries and headers are signed by
// this package, by @smithy/signature-v4 (the AWS SDK's signer) and by aws4, and must agree; then
// every signature verifies on the wire form and any change of a signed byte is refused.
// The seed is printed; rerun a failure with FC_SEED=<seed>.
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import aws4 from "aws4";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { uriEncode } from "../src/canonical.ts";
import { SigV4Error } from "../src/errors.ts";
import { nodeCryptoProvider } from "../src/node.ts";
import { presignRequest } from "../src/presign.ts";
import { signRequest } from "../src/sign.ts";
import type { Credentials, RawRequest } from "../src/types.ts";
import { verifyRequest } from "../src/verify.ts";

const seed = process.env.FC_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FC_SEED);
console.log(`differential tests: fast-check seed ${seed} (FC_SEED=${seed} to replay)`);
const runs = (numRuns: number) => ({ seed, numRuns, endOnFailure: true });

// ---------------------------------------------------------------------------------------------
// Generators

/** Characters that break naive signers: reserved, sub-delims, %, +, space, Unicode, astral. */
const KEY_PIECES = [
  "a",
  "Z",
  "0",
  "-",
  "_",
  ".",
  "~",
  " ",
  "+",
  "%",
  "=",
  ":",
  "é",
  "ሴ",
  "😀",
  "!",
  "'",
  "(",
  ")",
  "*",
  "$",
  "&",
  "@",
  ",",
  ";",
  "?",
  "#",
  "[",
  "]",
  "%20",
  "%2B",
  "..",
  "\u00a0",
];
const segmentArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(fc.constantFrom(...KEY_PIECES), { maxLength: 6 }).map((p) => p.join("")),
  },
  { weight: 1, arbitrary: fc.constantFrom("", ".", "..") },
);
const keyArb = fc.array(segmentArb, { minLength: 1, maxLength: 5 });

const VALUE_PIECES = [
  "a",
  "B",
  "1",
  "+",
  "&",
  "=",
  "%",
  " ",
  "/",
  "?",
  "é",
  "😀",
  "~",
  "*",
  "!",
  ":",
  ";",
  "%41",
];
const queryTextArb = fc
  .array(fc.constantFrom(...VALUE_PIECES), { maxLength: 5 })
  .map((p) => p.join(""));
const queryNameArb = fc.oneof(
  fc.constantFrom(
    "prefix",
    "list-type",
    "max-keys",
    "delimiter",
    "x-id",
    "a",
    "A",
    "a-b",
    "uploadId",
  ),
  queryTextArb.filter((name) => name !== ""),
);
const queryArb = fc.array(fc.tuple(queryNameArb, queryTextArb, fc.boolean()), { maxLength: 5 });

const HEADER_NAMES = [
  "content-type",
  "content-md5",
  "x-amz-meta-a",
  "x-amz-meta-b",
  "if-match",
  "range",
  "x-custom",
  "cache-control",
  "user-agent",
  "x-amz-acl",
  "expect",
];
const headerValueArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(" ", "  ", "\t", "a", "b", '"', ",", ";"),
      fc.string({ unit: fc.constantFrom(..."xyz019-=/:") }),
    ),
    { maxLength: 6 },
  )
  .map((p) => p.join(""));
const headersArb = fc.array(
  fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValueArb, fc.boolean()),
  { maxLength: 6 },
);

const PAYLOADS = [
  "UNSIGNED-PAYLOAD",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
  "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
];

const credentialsArb: fc.Arbitrary<Credentials> = fc.record(
  {
    accessKeyId: fc.constantFrom("AKIDEXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    secretAccessKey: fc.constantFrom("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "s3cr3t+/="),
    sessionToken: fc.constantFrom("AQoDYXdzEPT//////////wEXAMPLE+abc=", "token with space"),
  },
  { requiredKeys: ["accessKeyId", "secretAccessKey"] },
);

const requestArb = fc.record({
  method: fc.constantFrom("GET", "PUT", "HEAD", "DELETE", "POST"),
  host: fc.constantFrom("examplebucket.s3.amazonaws.com", "127.0.0.1:9000", "s3.eu-de.example"),
  key: keyArb,
  keyEncoding: fc.constantFrom("sdk", "component", "minimal"),
  query: queryArb,
  queryEncoding: fc.constantFrom("sdk", "component", "minimal"),
  headers: headersArb,
  payloadHash: fc.constantFrom(...PAYLOADS),
  credentials: credentialsArb,
  region: fc.constantFrom("us-east-1", "eu-west-1", "us-gov-west-1"),
  now: fc.integer({ min: Date.UTC(2013, 0, 1), max: Date.UTC(2035, 0, 1) }),
});
type Generated = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------
// Wire forms

/** The AWS SDK's encoding: everything but unreserved, per segment. */
const sdkEncode = (text: string): string => uriEncode(text);
/** What browsers and many clients send: `!'()*` stay raw. */
const componentEncode = (text: string): string => encodeURIComponent(text);
/** Only what a request-target cannot carry raw is encoded; sub-delims and `+` stay raw. */
const minimalEncode = (text: string, alsoEncode: string): string =>
  Array.from(text)
    .map((char) =>
      /[A-Za-z0-9\-._~!$'()*+,;:@]/.test(char) && !alsoEncode.includes(char)
        ? char
        : encodeURIComponent(char),
    )
    .join("");

const encodeSegment = (segment: string, mode: string): string =>
  mode === "sdk"
    ? sdkEncode(segment)
    : mode === "component"
      ? componentEncode(segment)
      : minimalEncode(segment, "");
const encodeQueryPart = (text: string, mode: string): string =>
  mode === "sdk"
    ? sdkEncode(text)
    : mode === "component"
      ? componentEncode(text)
      : minimalEncode(text, "&=");

const wirePath = (g: Generated) =>
  `/${g.key.map((s) => encodeSegment(s, g.keyEncoding)).join("/")}`;
const sdkPath = (g: Generated) => `/${g.key.map(sdkEncode).join("/")}`;
const wireQuery = (g: Generated) =>
  g.query
    .map(([name, value, withEquals]) =>
      value === "" && !withEquals
        ? encodeQueryPart(name, g.queryEncoding)
        : `${encodeQueryPart(name, g.queryEncoding)}=${encodeQueryPart(value, g.queryEncoding)}`,
    )
    .join("&");
const queryObject = (g: Generated): Record<string, string | string[]> => {
  const object: Record<string, string | string[]> = {};
  for (const [name, value] of g.query) {
    const current = object[name];
    object[name] =
      current === undefined
        ? value
        : Array.isArray(current)
          ? [...current, value]
          : [current, value];
  }
  return object;
};

/** Wire headers: names in random case, repeated names allowed. */
const wireHeaders = (g: Generated): Array<[string, string]> => [
  ["Host", g.host],
  ...g.headers.map(([name, value, upper]): [string, string] => [
    upper ? name.toUpperCase() : name,
    value,
  ]),
  ["x-amz-content-sha256", g.payloadHash],
];
const trimSpTab = (value: string) => value.replace(/^[ \t]+|[ \t]+$/g, "");
/** The same headers for a signer that takes a record: one key per name, values trimmed and joined. */
const headerRecord = (
  headers: ReadonlyArray<readonly [string, string]>,
): Record<string, string> => {
  const record: Record<string, string> = {};
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    record[lower] =
      record[lower] === undefined ? trimSpTab(value) : `${record[lower]},${trimSpTab(value)}`;
  }
  return record;
};

const SMITHY_UNSIGNABLE = new Set([
  "authorization",
  "cache-control",
  "connection",
  "expect",
  "from",
  "keep-alive",
  "max-forwards",
  "pragma",
  "referer",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "user-agent",
  "x-amzn-trace-id",
]);
const AWS4_IGNORED = new Set([
  "authorization",
  "connection",
  "x-amzn-trace-id",
  "user-agent",
  "expect",
  "presigned-expires",
  "range",
]);

const smithySigner = (g: Generated) =>
  new SignatureV4({
    credentials: g.credentials,
    region: g.region,
    service: "s3",
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: false,
    applyChecksum: true,
  });

/** The signing time as X-Amz-Date states it (whole seconds). */
const signedSecondMs = (epochMs: number) => Math.floor(epochMs / 1000) * 1000;

const lookupFor = (g: Generated) => (accessKeyId: string) =>
  accessKeyId === g.credentials.accessKeyId ? g.credentials.secretAccessKey : undefined;

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return "verified";
  } catch (error) {
    if (SigV4Error.is(error)) return error.code;
    throw error;
  }
};

// ---------------------------------------------------------------------------------------------

describe("differential: header auth", () => {
  it("matches @smithy/signature-v4, and smithy's signature verifies on the wire form", async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (g) => {
        const headers = wireHeaders(g);
        const ours = signRequest(
          { method: g.method, path: wirePath(g), query: wireQuery(g), headers },
          {
            credentials: g.credentials,
            region: g.region,
            now: g.now,
            signedHeaders: (name) => !SMITHY_UNSIGNABLE.has(name),
            crypto: nodeCryptoProvider,
          },
        );
        const smithy = await smithySigner(g).sign(
          new HttpRequest({
            method: g.method,
            protocol: "https:",
            hostname: g.host,
            path: sdkPath(g),
            query: queryObject(g),
            headers: headerRecord(headers),
          }),
          { signingDate: new Date(g.now) },
        );
        expect(ours.authorization).toBe(smithy.headers.authorization);
        // The SDK's own request, on our wire form, verifies.
        const smithyAdded = Object.entries(smithy.headers).filter(([name]) =>
          ["authorization", "x-amz-date", "x-amz-security-token"].includes(name),
        );
        const verified = await verifyRequest(
          {
            method: g.method,
            path: wirePath(g),
            query: wireQuery(g),
            headers: [...headers, ...smithyAdded],
          },
          { lookupSecret: lookupFor(g), now: g.now, crypto: nodeCryptoProvider },
        );
        expect(verified.sessionToken).toBe(g.credentials.sessionToken);
      }),
      runs(1000),
    );
  });

  it("matches aws4 (canonical string and Authorization)", () => {
    fc.assert(
      fc.property(requestArb, (g) => {
        // aws4 keeps only the first value of a repeated query key for S3 and drops empty names.
        const seen = new Set<string>();
        const query = g.query.filter(([name]) => !seen.has(name) && seen.add(name));
        const gUnique = { ...g, query };
        const headers = wireHeaders(gUnique);
        const amzDate = signRequest(
          { method: "GET", path: "/", query: "", headers: [["host", "h"]] },
          { credentials: g.credentials, region: g.region, now: g.now },
        ).amzDate;
        const ours = signRequest(
          { method: g.method, path: wirePath(gUnique), query: wireQuery(gUnique), headers },
          {
            credentials: g.credentials,
            region: g.region,
            now: g.now,
            signedHeaders: (name) => !AWS4_IGNORED.has(name),
          },
        );
        const aws4Query = query
          .map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`)
          .join("&");
        const signer = new aws4.RequestSigner(
          {
            method: g.method,
            host: g.host,
            path: `${sdkPath(gUnique)}${aws4Query === "" ? "" : `?${aws4Query}`}`,
            service: "s3",
            region: g.region,
            headers: { ...headerRecord(headers), "X-Amz-Date": amzDate },
          },
          g.credentials,
        );
        expect(ours.canonicalRequest).toBe(signer.canonicalString());
        expect(ours.authorization).toBe(signer.authHeader());
      }),
      runs(500),
    );
  });
});

describe("differential: presigned query", () => {
  const presignArb = fc.record({
    g: requestArb,
    expiresInSeconds: fc.integer({ min: 1, max: 604800 }),
    // Presigned headers are the ones a URL holder sends: no x-amz-* (smithy hoists those).
    headers: fc.array(
      fc.tuple(
        fc.constantFrom("content-type", "content-md5", "if-match", "x-custom"),
        headerValueArb,
      ),
      { maxLength: 3 },
    ),
  });

  it("matches @smithy/signature-v4 presign (S3 presigner form), and smithy's URL verifies", async () => {
    await fc.assert(
      fc.asyncProperty(presignArb, async ({ g, expiresInSeconds, headers: extra }) => {
        const headers: Array<[string, string]> = [["host", g.host], ...extra];
        const ours = presignRequest(
          { method: g.method, path: wirePath(g), query: wireQuery(g), headers },
          {
            credentials: g.credentials,
            region: g.region,
            now: g.now,
            expiresInSeconds,
            includePayloadHashParam: true,
            signedHeaders: () => true,
            crypto: nodeCryptoProvider,
          },
        );
        const smithy = await smithySigner(g).presign(
          new HttpRequest({
            method: g.method,
            protocol: "https:",
            hostname: g.host,
            path: sdkPath(g),
            query: queryObject(g),
            headers: { ...headerRecord(headers), "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD" },
          }),
          { signingDate: new Date(g.now), expiresIn: expiresInSeconds },
        );
        const smithyParams = smithy.query ?? {};
        expect(ours.signature).toBe(smithyParams["X-Amz-Signature"]);
        // Rebuild smithy's URL query in its own encoding and verify it on our wire path.
        const smithyQuery = Object.entries(smithyParams)
          .flatMap(([name, value]) =>
            (Array.isArray(value) ? value : [value]).map(
              (v) => `${uriEncode(name)}=${uriEncode(String(v))}`,
            ),
          )
          .join("&");
        const verified = await verifyRequest(
          { method: g.method, path: wirePath(g), query: smithyQuery, headers },
          {
            lookupSecret: lookupFor(g),
            now: signedSecondMs(g.now) + expiresInSeconds * 1000,
            crypto: nodeCryptoProvider,
          },
        );
        expect(verified.payloadMode).toBe("unsigned");
        expect(verified.expiresInSeconds).toBe(expiresInSeconds);
      }),
      runs(500),
    );
  });

  it("matches aws4 presigned signatures", () => {
    fc.assert(
      fc.property(presignArb, ({ g, expiresInSeconds }) => {
        const seen = new Set<string>();
        const query = g.query.filter(([name]) => !seen.has(name) && seen.add(name));
        const gUnique = { ...g, query };
        const ours = presignRequest(
          {
            method: g.method,
            path: wirePath(gUnique),
            query: wireQuery(gUnique),
            headers: [["host", g.host]],
          },
          { credentials: g.credentials, region: g.region, now: g.now, expiresInSeconds },
        );
        const aws4Query = [
          ...query.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`),
          `X-Amz-Date=${ours.amzDate}`,
          `X-Amz-Expires=${expiresInSeconds}`,
        ].join("&");
        const signer = new aws4.RequestSigner(
          {
            method: g.method,
            host: g.host,
            path: `${sdkPath(gUnique)}?${aws4Query}`,
            service: "s3",
            region: g.region,
            signQuery: true,
          },
          g.credentials,
        );
        expect(ours.canonicalRequest).toBe(signer.canonicalString());
        expect(ours.signature).toBe(signer.signature());
      }),
      runs(300),
    );
  });
});

describe("round trips and mutations", () => {
  type Mutation = { kind: string; apply: (r: RawRequest) => RawRequest };
  const mutate = (
    request: RawRequest,
    signedHeaders: ReadonlyArray<string>,
    pick: number,
    char: string,
  ): Mutation[] => {
    const mutations: Mutation[] = [
      { kind: "method", apply: (r) => ({ ...r, method: r.method === "GET" ? "PUT" : "GET" }) },
      { kind: "path", apply: (r) => ({ ...r, path: `${r.path}${char}` }) },
      {
        kind: "query pair",
        apply: (r) => ({ ...r, query: r.query === "" ? "z=1" : `${r.query}&z=1` }),
      },
    ];
    const pieces = request.query.split("&").filter((p) => !p.startsWith("X-Amz-Signature="));
    if (request.query !== "" && pieces.length > 0) {
      const target = pieces[pick % pieces.length]!;
      mutations.push({
        kind: "query value",
        apply: (r) => ({ ...r, query: r.query.replace(target, `${target}${char}`) }),
      });
    }
    const signedPresent = request.headers.filter(([name]) =>
      signedHeaders.includes(name.toLowerCase()),
    );
    if (signedPresent.length > 0) {
      const [targetName] = signedPresent[pick % signedPresent.length]!;
      mutations.push({
        kind: `header ${targetName}`,
        apply: (r) => ({
          ...r,
          headers: r.headers.map(([n, v]) => {
            if (n !== targetName) return [n, v];
            if (/^[0-9a-f]{64}$/.test(v))
              return [n, `${v.slice(0, -1)}${v.endsWith("a") ? "b" : "a"}`];
            if (n.toLowerCase() === "x-amz-date")
              return [n, v.replace(/\d(?=Z$)/, (d) => String((Number(d) + 1) % 10))];
            if (n.toLowerCase() === "x-amz-content-sha256")
              return [
                n,
                v === "UNSIGNED-PAYLOAD"
                  ? "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
                  : "UNSIGNED-PAYLOAD",
              ];
            return [n, `${v}${char}`];
          }),
        }),
      });
    }
    return mutations;
  };

  it("verifies what it signs, and refuses any change of a signed part", async () => {
    await fc.assert(
      fc.asyncProperty(
        requestArb,
        fc.nat(),
        fc.constantFrom("x", "%41", "é", "+"),
        async (g, pick, char) => {
          const request: RawRequest = {
            method: g.method,
            path: wirePath(g),
            query: wireQuery(g),
            headers: wireHeaders(g),
          };
          const signed = signRequest(request, {
            credentials: g.credentials,
            region: g.region,
            now: g.now,
          });
          const wire: RawRequest = { ...request, headers: signed.headers };
          const options = { lookupSecret: lookupFor(g), now: g.now };
          const verified = await verifyRequest(wire, options);
          expect(verified.signature).toBe(signed.signature);
          for (const mutation of mutate(wire, signed.signedHeaders, pick, char)) {
            expect([
              mutation.kind,
              await codeOf(verifyRequest(mutation.apply(wire), options)),
            ]).not.toEqual([mutation.kind, "verified"]);
          }
        },
      ),
      runs(400),
    );
  });

  it("verifies what it presigns until expiry, and refuses any change of a signed part", async () => {
    await fc.assert(
      fc.asyncProperty(
        requestArb,
        fc.integer({ min: 1, max: 604800 }),
        fc.nat(),
        fc.constantFrom("x", "%41", "é", "+"),
        async (g, expiresInSeconds, pick, char) => {
          const headers: Array<[string, string]> = [
            ["Host", g.host],
            ["Content-Type", "text/plain"],
          ];
          const request: RawRequest = {
            method: g.method,
            path: wirePath(g),
            query: wireQuery(g),
            headers,
          };
          const presigned = presignRequest(request, {
            credentials: g.credentials,
            region: g.region,
            now: g.now,
            expiresInSeconds,
          });
          const wire: RawRequest = { ...request, query: presigned.query };
          // The last valid millisecond: X-Amz-Date has whole seconds.
          const options = {
            lookupSecret: lookupFor(g),
            now: signedSecondMs(g.now) + expiresInSeconds * 1000,
          };
          expect((await verifyRequest(wire, options)).sessionToken).toBe(
            g.credentials.sessionToken,
          );
          expect(await codeOf(verifyRequest(wire, { ...options, now: options.now + 1 }))).toBe(
            "AccessDenied",
          );
          for (const mutation of mutate(wire, presigned.signedHeaders, pick, char)) {
            expect([
              mutation.kind,
              await codeOf(verifyRequest(mutation.apply(wire), options)),
            ]).not.toEqual([mutation.kind, "verified"]);
          }
        },
      ),
      runs(300),
    );
  });
});
