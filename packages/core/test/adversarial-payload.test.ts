// Adversarial review of request-body integrity: aws-chunked streams (signed, with trailers,
// unsigned with a checksum trailer), SHA-256 payloads and unsigned payloads. Each test makes a
// legitimate upload, attacks its body, and asserts the SAFE outcome: the right S3 error and an
// upstream body that never completes (so no backend can commit it), or, for the payload forms
// that are unsigned by design, that the proxy never claims an integrity it did not check.

import { createHash } from "node:crypto";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { describe, expect, it } from "vitest";
import { createProxy, type ProxyRequest } from "../src/index.ts";
import {
  checksumBase64,
  encodeSignedChunks,
  encodeUnsignedChunks,
  signingKey,
  type ChunkChain,
} from "./support/aws-chunked.ts";
import {
  DEFAULT_CLIENT,
  bodyPieces,
  presignedClientRequest,
  signedClientRequest,
} from "./support/client.ts";
import { parseAuthorizationHeader } from "./support/independent-verifier.ts";
import {
  backend,
  recordingTransport,
  upstreamHeader,
  verifyUpstream,
} from "./support/recording-transport.ts";
import { collect } from "./support/unit.ts";

const START = new Date(Date.UTC(2030, 0, 1, 12, 0, 0));

const setup = () => {
  const { transport, sent } = recordingTransport();
  const proxy = createProxy(
    {
      cosMap: {
        data: backend(),
        legacy: backend({ uploadEncodings: "signed-chunks" }),
        ibm: {
          host: "127.0.0.1",
          port: 9000,
          tls: false,
          addressingStyle: "path",
          apiKey: "ibm-api-key",
        },
      },
      hmacKeystore: [
        { accessKey: DEFAULT_CLIENT.accessKeyId, secretKey: DEFAULT_CLIENT.secretAccessKey },
      ],
    },
    {
      transport,
      now: () => START.getTime(),
      crypto: nodeCryptoProvider,
      createRequestId: () => "ADVERSARIAL00002",
      bearerTokens: { getToken: async () => "bearer-token-1" },
      // Small re-signed chunks, so a failing stream has already sent some frames upstream.
      chunkSizeBytes: 8_192,
    },
  );
  const send = async (request: ProxyRequest | Promise<ProxyRequest>) => {
    const response = await proxy.handle(await request);
    const text = Buffer.from(await collect(response.body)).toString("utf8");
    const code = response.headers.find(([name]) => name === "x-amz-error-code")?.[1];
    return { status: response.status, text, code };
  };
  /** Sends, expects the S3 error, and checks that no upstream body completed. */
  const refused = async (
    request: ProxyRequest | Promise<ProxyRequest>,
    status: number,
    code: string,
    label = code,
  ) => {
    const before = sent.length;
    const response = await send(request);
    expect([response.status, response.code], `${label}: ${response.text}`).toEqual([status, code]);
    const forwarded = sent.slice(before);
    expect(
      forwarded.filter((entry) => entry.completed).map((entry) => entry.request.pathAndQuery),
      `${label}: no upstream body may complete`,
    ).toEqual([]);
    return { response, forwarded };
  };
  return { sent, send, refused };
};

type Headers = Array<[string, string]>;

const header = (request: ProxyRequest, name: string): string =>
  request.headers.find(([key]) => key.toLowerCase() === name)?.[1] ?? "";

/** The request with another wire body (and the matching unsigned Content-Length). */
const withBody = (request: ProxyRequest, body: Buffer, pieceBytes = 4_096): ProxyRequest => ({
  ...request,
  headers: request.headers.map(([name, value]): [string, string] => [
    name,
    name.toLowerCase() === "content-length" ? String(body.length) : value,
  ]) as Headers,
  body: bodyPieces(body, pieceBytes),
});

/** The chunk-signature chain of a header-signed streaming request (for crafting bodies). */
const chainOf = (request: ProxyRequest): ChunkChain => {
  const parsed = parseAuthorizationHeader(header(request, "authorization"));
  return {
    key: signingKey(DEFAULT_CLIENT.secretAccessKey, parsed.date, parsed.region),
    amzDate: header(request, "x-amz-date"),
    scope: `${parsed.date}/${parsed.region}/s3/aws4_request`,
    seed: parsed.signature,
  };
};

const sha256Hex = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

const patterned = (length: number, seed = 0): Buffer =>
  Buffer.from(Array.from({ length }, (_, index) => (index * 31 + seed) % 251));

describe("adversarial: aws-chunked streams", () => {
  it("refuses an x-amz-decoded-content-length that lies, longer or shorter, on every backend kind", async () => {
    const h = setup();
    const data = patterned(40_000);
    for (const bucket of ["data", "legacy", "ibm"]) {
      for (const declared of [80_000, 20_000, 0]) {
        const request = signedClientRequest({
          method: "PUT",
          path: `/${bucket}/lie`,
          body: data,
          signingDate: START,
          payload: "streaming-signed",
          chunkBytes: 8_192,
          omitDecodedLength: true,
          headers: [["x-amz-decoded-content-length", String(declared)]],
        });
        await h.refused(request, 400, "IncompleteBody", `${bucket} declares ${declared}`);
      }
    }
  });

  it("refuses chunk signatures replayed from another upload, swapped or dropped chunks", async () => {
    const h = setup();
    const first = patterned(20_000, 1);
    const second = patterned(20_000, 2);
    const upload = (path: string, data: Buffer, tamper?: (frames: Buffer[]) => void) =>
      signedClientRequest({
        method: "PUT",
        path,
        body: data,
        signingDate: START,
        payload: "streaming-signed",
        chunkBytes: 8_192,
        ...(tamper != null && { tamper }),
      });
    for (const bucket of ["data", "ibm"]) {
      const a = await upload(`/${bucket}/a`, first);
      const b = await upload(`/${bucket}/b`, second);
      // Same key, same second, same sizes: only the seed differs.
      await h.refused(
        withBody(a, b.wireBody!),
        403,
        "SignatureDoesNotMatch",
        `${bucket}: replayed chunks`,
      );
      await h.refused(
        upload(`/${bucket}/swap`, first, (frames) => {
          [frames[1], frames[4]] = [frames[4]!, frames[1]!];
        }),
        403,
        "SignatureDoesNotMatch",
        `${bucket}: swapped chunks`,
      );
      await h.refused(
        upload(`/${bucket}/drop`, first, (frames) => void frames.splice(3, 3)),
        403,
        "SignatureDoesNotMatch",
        `${bucket}: dropped chunk`,
      );
      // The untouched upload goes through, complete.
      expect((await h.send(upload(`/${bucket}/ok`, first))).status).toBe(200);
      expect(h.sent.at(-1)!.completed).toBe(true);
    }
  });

  it("refuses a truncated stream, bytes after the final chunk, a plain body or a huge chunk size", async () => {
    const h = setup();
    const data = patterned(20_000);
    for (const bucket of ["data", "ibm"]) {
      const good = await signedClientRequest({
        method: "PUT",
        path: `/${bucket}/k`,
        body: data,
        signingDate: START,
        payload: "streaming-signed",
        chunkBytes: 8_192,
      });
      const wire = good.wireBody!;
      const finalFrame = wire.lastIndexOf("0;chunk-signature=");
      await h.refused(
        withBody(good, wire.subarray(0, finalFrame)),
        400,
        "IncompleteBody",
        `${bucket}: truncated`,
      );
      await h.refused(
        withBody(good, wire.subarray(0, wire.length - 2)),
        400,
        "IncompleteBody",
        `${bucket}: no final CRLF`,
      );
      await h.refused(
        withBody(good, Buffer.concat([wire, Buffer.from("5;chunk-signature=x\r\nextra\r\n")])),
        400,
        "InvalidRequest",
        `${bucket}: data after the end`,
      );
      await h.refused(withBody(good, data), 400, "InvalidRequest", `${bucket}: plain body`);
      await h.refused(
        withBody(good, Buffer.from(`fffffffff;chunk-signature=${"0".repeat(64)}\r\n`)),
        400,
        "InvalidRequest",
        `${bucket}: huge chunk size`,
      );
    }
  });

  it("refuses an undeclared trailer, an altered signed trailer and a missing declared trailer", async () => {
    const h = setup();
    const data = patterned(10_000);
    const crc = checksumBase64("crc32", data);
    for (const bucket of ["data", "legacy", "ibm"]) {
      const good = await signedClientRequest({
        method: "PUT",
        path: `/${bucket}/t`,
        body: data,
        signingDate: START,
        payload: "streaming-signed-trailer",
        chunkBytes: 8_192,
      });
      expect(header(good, "x-amz-trailer")).toBe("x-amz-checksum-crc32");
      const chain = chainOf(good);
      // Correctly signed by the client, but not declared in the signed x-amz-trailer header.
      const undeclared = encodeSignedChunks(data, chain, {
        chunkBytes: 8_192,
        trailers: [
          ["x-amz-checksum-crc32", crc],
          ["x-amz-meta-injected", "1"],
        ],
      });
      await h.refused(
        withBody(good, undeclared),
        400,
        "InvalidRequest",
        `${bucket}: undeclared trailer`,
      );
      const altered = encodeSignedChunks(data, chain, {
        chunkBytes: 8_192,
        trailers: [["x-amz-checksum-crc32", crc]],
        tamper: (frames) => {
          const last = frames.length - 1;
          frames[last] = Buffer.from(
            frames[last]!.toString("latin1").replace(crc, "AAAAAA=="),
            "latin1",
          );
        },
      });
      await h.refused(
        withBody(good, altered),
        403,
        "SignatureDoesNotMatch",
        `${bucket}: altered trailer`,
      );
      const missing = encodeSignedChunks(data, chain, { chunkBytes: 8_192, trailers: [] });
      await h.refused(withBody(good, missing), 400, "IncompleteBody", `${bucket}: missing trailer`);
      expect((await h.send(good)).status).toBe(200);
    }
  });

  it("checks unsigned-trailer uploads it decodes: a wrong checksum or an undeclared trailer never completes", async () => {
    const h = setup();
    const data = patterned(10_000);
    for (const bucket of ["legacy", "ibm"]) {
      const good = await signedClientRequest({
        method: "PUT",
        path: `/${bucket}/u`,
        body: data,
        signingDate: START,
        payload: "streaming-unsigned-trailer",
        chunkBytes: 8_192,
      });
      const wrong = encodeUnsignedChunks(
        data,
        [["x-amz-checksum-crc32", checksumBase64("crc32", patterned(10_000, 9))]],
        8_192,
      );
      await h.refused(withBody(good, wrong), 400, "BadDigest", `${bucket}: wrong checksum`);
      const undeclared = encodeUnsignedChunks(
        data,
        [
          ["x-amz-checksum-crc32", checksumBase64("crc32", data)],
          ["x-amz-meta-injected", "1"],
        ],
        8_192,
      );
      await h.refused(
        withBody(good, undeclared),
        400,
        "InvalidRequest",
        `${bucket}: undeclared trailer`,
      );
      expect((await h.send(good)).status).toBe(200);
      expect(h.sent.at(-1)!.completed).toBe(true);
    }
  });

  it("refuses to re-sign an aws-chunked upload without x-amz-decoded-content-length (nothing sent)", async () => {
    const h = setup();
    const request = signedClientRequest({
      method: "PUT",
      path: "/data/k",
      body: patterned(1_000),
      signingDate: START,
      payload: "streaming-signed",
      omitDecodedLength: true,
    });
    const before = h.sent.length;
    await h.refused(request, 411, "MissingContentLength");
    expect(h.sent.length).toBe(before);
  });
});

describe("adversarial: SHA-256 and unsigned payloads", () => {
  it("never completes a bearer upload whose body differs from its signed SHA-256 or its Content-Length", async () => {
    const h = setup();
    const signedBody = Buffer.from("good body 0123!!");
    const good = await signedClientRequest({
      method: "PUT",
      path: "/ibm/k",
      body: signedBody,
      signingDate: START,
    });
    const { forwarded } = await h.refused(
      withBody(good, Buffer.from("evil body 0123!!"), 4),
      400,
      "XAmzContentSHA256Mismatch",
      "same length, other bytes",
    );
    // The last piece is held back until the hash matched: the backend never saw the whole body.
    expect(forwarded[0]!.body.length).toBeLessThan(signedBody.length);
    await h.refused(
      { ...good, body: bodyPieces(Buffer.concat([signedBody, Buffer.from("more")]), 4) },
      400,
      "IncompleteBody",
      "longer than Content-Length",
    );
    await h.refused(
      { ...good, body: bodyPieces(signedBody.subarray(0, 8), 4) },
      400,
      "IncompleteBody",
      "shorter",
    );
    const before = h.sent.length;
    await h.refused({ ...good, body: null }, 400, "XAmzContentSHA256Mismatch", "no body at all");
    expect(h.sent.length).toBe(before);
    expect((await h.send(good)).status).toBe(200);
    expect(h.sent.at(-1)!.completed).toBe(true);
  });

  it("hands HMAC backends the client's own SHA-256, never one computed over a tampered body", async () => {
    const h = setup();
    const signedBody = Buffer.from("good body 0123!!");
    const good = await signedClientRequest({
      method: "PUT",
      path: "/data/k",
      body: signedBody,
      signingDate: START,
    });
    expect((await h.send(withBody(good, Buffer.from("evil body 0123!!"), 4))).status).toBe(200);
    const forwarded = h.sent.at(-1)!;
    await expect(verifyUpstream(forwarded)).resolves.toMatchObject({
      payloadHash: sha256Hex(signedBody),
    });
    // The backend checks the hash it was given against what it received: a mismatch it refuses.
    expect(sha256Hex(forwarded.body)).not.toBe(sha256Hex(signedBody));
  });

  it("by design, passes unsigned payloads through marked unsigned: a presigned PUT's body is not covered", async () => {
    // UNSIGNED-PAYLOAD is what presigned URLs sign (AWS semantics): whoever holds the URL chooses
    // the body. The proxy must not turn that into a claim it never checked.
    const h = setup();
    const presigned = await presignedClientRequest({
      method: "PUT",
      path: "/data/k",
      signingDate: START,
      expiresInSeconds: 60,
      body: Buffer.from("any body"),
    });
    expect((await h.send({ ...presigned, body: bodyPieces(Buffer.from("body B!!")) })).status).toBe(
      200,
    );
    const forwarded = h.sent.at(-1)!;
    expect(upstreamHeader(forwarded, "x-amz-content-sha256")).toEqual(["UNSIGNED-PAYLOAD"]);
    expect(forwarded.body.toString()).toBe("body B!!");
    await expect(verifyUpstream(forwarded)).resolves.toBeDefined();
    const toBearer = await presignedClientRequest({
      method: "PUT",
      path: "/ibm/k",
      signingDate: START,
      expiresInSeconds: 60,
      body: Buffer.from("any body"),
    });
    expect((await h.send(toBearer)).status).toBe(200);
    expect(upstreamHeader(h.sent.at(-1)!, "x-amz-content-sha256")).toEqual([]);
    expect(upstreamHeader(h.sent.at(-1)!, "authorization")).toEqual(["Bearer bearer-token-1"]);
  });

  it("by design, passes STREAMING-UNSIGNED-PAYLOAD-TRAILER through to capable HMAC backends, marked as such", async () => {
    const h = setup();
    const data = patterned(10_000);
    const request = await signedClientRequest({
      method: "PUT",
      path: "/data/u",
      body: data,
      signingDate: START,
      payload: "streaming-unsigned-trailer",
      chunkBytes: 8_192,
    });
    expect((await h.send(request)).status).toBe(200);
    const forwarded = h.sent.at(-1)!;
    expect(upstreamHeader(forwarded, "x-amz-content-sha256")).toEqual([
      "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    ]);
    expect(upstreamHeader(forwarded, "x-amz-trailer")).toEqual(["x-amz-checksum-crc32"]);
    expect(forwarded.body.equals(request.wireBody!)).toBe(true);
    await expect(verifyUpstream(forwarded)).resolves.toBeDefined();
  });
});
