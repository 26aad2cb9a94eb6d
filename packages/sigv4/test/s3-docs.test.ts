// The worked examples of the Amazon S3 API Reference (s3-docs-examples.json), at every stage,
// signed and verified. The chunk and trailer signatures belong to the chunked tests; the seed
// requests of those examples are ordinary header-signed requests and are checked here.
import { describe, expect, it } from "vitest";
import { toHex } from "../src/encoding.ts";
import { SigV4Error } from "../src/errors.ts";
import { nodeCryptoProvider } from "../src/node.ts";
import { presignRequest, presignUrl } from "../src/presign.ts";
import { signRequest } from "../src/sign.ts";
import { deriveSigningKey } from "../src/signing-key.ts";
import type { RawRequest } from "../src/types.ts";
import { verifyRequest } from "../src/verify.ts";
import { docsExamples, docsRequest, headerSet } from "./vectors.ts";

const docs = docsExamples();
const { common } = docs;
const now = Date.parse(common.timestamp);
const credentials = {
  accessKeyId: common.credentials.access_key_id,
  secretAccessKey: common.credentials.secret_access_key,
};
const lookupSecret = (accessKeyId: string) =>
  accessKeyId === credentials.accessKeyId ? credentials.secretAccessKey : undefined;
const headerExamples = [
  ...docs.header_single_chunk,
  docs.chunked_upload,
  docs.chunked_upload_with_trailer,
];

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return "verified";
  } catch (error) {
    if (SigV4Error.is(error)) return error.code;
    throw error;
  }
};

/** Request with the `Authorization` header the docs print. */
const signedDocsRequest = (id: string): RawRequest => {
  const example = headerExamples.find((candidate) => candidate.id === id)!;
  const request = docsRequest(example);
  return { ...request, headers: [...request.headers, ["Authorization", example.authorization!]] };
};

describe("S3 docs: signing key", () => {
  it("derives the published-and-rechecked signing key with both providers", () => {
    const scope = { date: common.amz_date.slice(0, 8), region: common.region, service: "s3" };
    expect(toHex(deriveSigningKey(credentials.secretAccessKey, scope))).toBe(
      common.signing_key_hex,
    );
    expect(toHex(deriveSigningKey(credentials.secretAccessKey, scope, nodeCryptoProvider))).toBe(
      common.signing_key_hex,
    );
  });
});

describe("S3 docs: header auth examples", () => {
  for (const example of headerExamples) {
    it(`signs ${example.id} at every stage`, () => {
      const signed = signRequest(docsRequest(example), {
        credentials,
        region: common.region,
        now,
      });
      expect(signed.canonicalRequest).toBe(example.canonical_request);
      expect(signed.stringToSign).toBe(example.string_to_sign);
      expect(signed.signedHeaders.join(";")).toBe(example.signed_headers);
      expect(signed.signature).toBe(example.signature ?? example.seed_signature);
      expect(signed.authorization).toBe(example.authorization);
      expect(toHex(signed.signingKey)).toBe(common.signing_key_hex);
      // The docs requests already carry x-amz-date and x-amz-content-sha256: nothing is duplicated.
      expect(headerSet(signed.headers)).toEqual(
        headerSet([...docsRequest(example).headers, ["authorization", example.authorization!]]),
      );
    });

    it(`verifies ${example.id} at its timestamp with both providers`, async () => {
      const request = signedDocsRequest(example.id);
      for (const crypto of [undefined, nodeCryptoProvider]) {
        const verified = await verifyRequest(request, { lookupSecret, now, crypto });
        expect(verified.accessKeyId).toBe(credentials.accessKeyId);
        expect(verified.canonicalRequest).toBe(example.canonical_request);
        expect(verified.stringToSign).toBe(example.string_to_sign);
        expect(verified.signedHeaders.join(";")).toBe(example.signed_headers);
      }
    });
  }

  it("reports the payload mode and the chunk-signing context of the streaming seeds", async () => {
    const plain = await verifyRequest(signedDocsRequest("get-object"), { lookupSecret, now });
    expect(plain.payloadMode).toBe("sha256");
    expect(plain.chunkSigning).toBeUndefined();
    const seed = await verifyRequest(signedDocsRequest(docs.chunked_upload.id), {
      lookupSecret,
      now,
    });
    expect(seed.payloadMode).toBe("streaming-signed");
    expect(seed.chunkSigning?.seedSignature).toBe(docs.chunked_upload.seed_signature);
    expect(toHex(seed.chunkSigning!.signingKey)).toBe(common.signing_key_hex);
    expect(seed.chunkSigning?.amzDate).toBe(common.amz_date);
    const trailer = await verifyRequest(signedDocsRequest(docs.chunked_upload_with_trailer.id), {
      lookupSecret,
      now,
    });
    expect(trailer.payloadMode).toBe("streaming-signed-trailer");
    expect(trailer.chunkSigning?.seedSignature).toBe(
      docs.chunked_upload_with_trailer.seed_signature,
    );
  });

  const mutations: Array<[string, (request: RawRequest) => RawRequest, string]> = [
    [
      "the method",
      (r) => ({ ...r, method: r.method === "GET" ? "HEAD" : "GET" }),
      "SignatureDoesNotMatch",
    ],
    ["the path", (r) => ({ ...r, path: `${r.path}x` }), "SignatureDoesNotMatch"],
    [
      "the query",
      (r) => ({ ...r, query: r.query === "" ? "a=b" : `${r.query}0` }),
      "SignatureDoesNotMatch",
    ],
    [
      "the payload hash",
      (r) => ({
        ...r,
        headers: r.headers.map(([n, v]) =>
          n.toLowerCase() === "x-amz-content-sha256" && /^[0-9a-f]{64}$/.test(v)
            ? [n, `${v.slice(0, 63)}${v.endsWith("0") ? "1" : "0"}`]
            : [n, v],
        ),
      }),
      "SignatureDoesNotMatch",
    ],
  ];
  for (const example of docs.header_single_chunk) {
    for (const [what, mutate, code] of mutations) {
      it(`rejects ${example.id} with ${what} changed`, async () => {
        const mutated = mutate(signedDocsRequest(example.id));
        expect(mutated).not.toEqual(signedDocsRequest(example.id));
        expect(await codeOf(verifyRequest(mutated, { lookupSecret, now }))).toBe(code);
      });
    }
  }
});

describe("S3 docs: presigned URL example", () => {
  const example = docs.presigned_url[0]!;
  const request = docsRequest(example);
  const options = {
    credentials,
    region: common.region,
    now,
    expiresInSeconds: example.expires_in_seconds!,
  };

  it("presigns at every stage (no X-Amz-Content-Sha256, payload UNSIGNED-PAYLOAD)", () => {
    const presigned = presignRequest(request, options);
    expect(presigned.canonicalRequest).toBe(example.canonical_request);
    expect(presigned.stringToSign).toBe(example.string_to_sign);
    expect(presigned.signature).toBe(example.signature);
    expect(
      presignUrl(`https://examplebucket.s3.amazonaws.com${example.request.target}`, options),
    ).toBe(example.url);
  });

  const urlRequest = (): RawRequest => {
    const url = example.url!;
    const pathAndQuery = url.slice(url.indexOf("/", "https://".length));
    const question = pathAndQuery.indexOf("?");
    return {
      method: "GET",
      path: pathAndQuery.slice(0, question),
      query: pathAndQuery.slice(question + 1),
      headers: [["Host", "examplebucket.s3.amazonaws.com"]],
    };
  };

  it("verifies the published URL from its date until it expires", async () => {
    for (const at of [now, now + 1000, now + example.expires_in_seconds! * 1000]) {
      const verified = await verifyRequest(urlRequest(), { lookupSecret, now: at });
      expect(verified.kind).toBe("query");
      expect(verified.payloadHash).toBe("UNSIGNED-PAYLOAD");
      expect(verified.expiresInSeconds).toBe(86400);
      expect(verified.canonicalRequest).toBe(example.canonical_request);
    }
  });

  it("rejects the published URL one millisecond after it expired", async () => {
    const error = await verifyRequest(urlRequest(), {
      lookupSecret,
      now: now + example.expires_in_seconds! * 1000 + 1,
    }).catch((caught: unknown) => caught);
    expect(SigV4Error.is(error) && error.code).toBe("AccessDenied");
    expect((error as Error).message).toBe("Request has expired");
  });

  it("rejects the published URL with a changed signature digit or query", async () => {
    const base = urlRequest();
    const flipped = base.query.replace(
      /X-Amz-Signature=(.)/,
      (_, digit: string) => `X-Amz-Signature=${digit === "a" ? "b" : "a"}`,
    );
    expect(await codeOf(verifyRequest({ ...base, query: flipped }, { lookupSecret, now }))).toBe(
      "SignatureDoesNotMatch",
    );
    expect(
      await codeOf(verifyRequest({ ...base, query: `${base.query}&x=1` }, { lookupSecret, now })),
    ).toBe("SignatureDoesNotMatch");
  });
});
