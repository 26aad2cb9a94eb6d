// aws-chunked uploads built by hand with @osp/sigv4's encoder: the signed, signed-trailer and
// unsigned-trailer modes, a tampered chunk, a truncated body, and the ceph16 profile's refusals.
import {
  createChunkEncoder,
  createUnsignedChunkEncoder,
  signedChunkedLength,
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_PAYLOAD_TRAILER,
  unsignedChunkedLength,
  type SignedRequest,
} from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalS3, type LocalS3 } from "../src/index.ts";
import { CREDENTIALS, errorFields, randomBody, sendRaw, sha256Hex, signRaw } from "./helpers.ts";

const BUCKET = "chunked";
const CHUNK_SIZE_BYTES = 64 * 1024;

const signingOf = (signed: SignedRequest) => ({
  signingKey: signed.signingKey,
  amzDate: signed.amzDate,
  scope: signed.scope,
  seedSignature: signed.signature,
});

type Mode = "signed" | "signed-trailer" | "unsigned-trailer";

/** Builds a complete aws-chunked PUT of `body` in one of the three modes. */
const buildChunkedPut = (
  url: string,
  key: string,
  body: Buffer,
  mode: Mode,
  options: { withContentLength?: boolean; declaredLength?: number } = {},
) => {
  const path = `/${BUCKET}/${key}`;
  const trailer = mode !== "signed";
  const encodedLength =
    mode === "unsigned-trailer"
      ? unsignedChunkedLength(body.length, {
          chunkSizeBytes: CHUNK_SIZE_BYTES,
          checksumAlgorithm: "crc32",
        })
      : signedChunkedLength(body.length, {
          chunkSizeBytes: CHUNK_SIZE_BYTES,
          ...(trailer ? { checksumAlgorithm: "crc32" as const } : {}),
        });
  const headers: Array<[string, string]> = [
    ["content-encoding", "aws-chunked"],
    ["x-amz-decoded-content-length", String(options.declaredLength ?? body.length)],
    ...(trailer ? [["x-amz-trailer", "x-amz-checksum-crc32"] as [string, string]] : []),
    ...(options.withContentLength === false
      ? [["transfer-encoding", "chunked"] as [string, string]]
      : [["content-length", String(encodedLength)] as [string, string]]),
  ];
  const payloadHash =
    mode === "signed"
      ? STREAMING_SIGNED_PAYLOAD
      : mode === "signed-trailer"
        ? STREAMING_SIGNED_PAYLOAD_TRAILER
        : STREAMING_UNSIGNED_PAYLOAD_TRAILER;
  const signed = signRaw(url, { method: "PUT", path, headers, payloadHash });
  const encoder =
    mode === "unsigned-trailer"
      ? createUnsignedChunkEncoder({
          chunkSizeBytes: CHUNK_SIZE_BYTES,
          checksumAlgorithm: "crc32",
          crypto: nodeCryptoProvider,
        })
      : createChunkEncoder({
          signing: signingOf(signed),
          chunkSizeBytes: CHUNK_SIZE_BYTES,
          trailer,
          ...(trailer ? { checksumAlgorithm: "crc32" as const } : {}),
          crypto: nodeCryptoProvider,
        });
  const wire = Buffer.concat(
    [...encoder.push(body), ...encoder.end()].map((piece) => Buffer.from(piece)),
  );
  expect(wire.length).toBe(encodedLength);
  return { path, headers: signed.headers, wire };
};

const getObject = async (url: string, key: string) => {
  const path = `/${BUCKET}/${key}`;
  const signed = signRaw(url, { method: "GET", path, payloadHash: sha256Hex("") });
  return sendRaw(url, { method: "GET", path, headers: signed.headers });
};

describe('profile "aws"', () => {
  let server: LocalS3;

  beforeAll(async () => {
    server = await createLocalS3({ credentials: CREDENTIALS, buckets: [BUCKET] });
  });

  afterAll(async () => {
    await server?.close();
  });

  it.each(["signed", "signed-trailer", "unsigned-trailer"] as const)(
    "stores a %s aws-chunked upload decoded",
    async (mode) => {
      const body = randomBody(3 * CHUNK_SIZE_BYTES + 4321);
      const { path, headers, wire } = buildChunkedPut(server.url, `mode-${mode}`, body, mode);
      const response = await sendRaw(server.url, { method: "PUT", path, headers, body: [wire] });
      expect(response.status, response.body.toString()).toBe(200);
      const download = await getObject(server.url, `mode-${mode}`);
      expect(download.status).toBe(200);
      expect(sha256Hex(download.body)).toBe(sha256Hex(body));
      expect(download.headers["content-encoding"]).toBeUndefined();
    },
  );

  it("accepts a chunked upload without Content-Length", async () => {
    const body = randomBody(100_000);
    const { path, headers, wire } = buildChunkedPut(
      server.url,
      "no-length",
      body,
      "unsigned-trailer",
      {
        withContentLength: false,
      },
    );
    const response = await sendRaw(server.url, { method: "PUT", path, headers, body: [wire] });
    expect(response.status).toBe(200);
    expect(sha256Hex((await getObject(server.url, "no-length")).body)).toBe(sha256Hex(body));
  });

  it("rejects a tampered chunk with SignatureDoesNotMatch and stores nothing", async () => {
    const body = randomBody(4 * CHUNK_SIZE_BYTES);
    const { path, headers, wire } = buildChunkedPut(server.url, "tampered", body, "signed");
    // Flip a byte inside the second chunk's data: the first chunk verified and was released.
    const secondChunkData =
      2 * (CHUNK_SIZE_BYTES.toString(16).length + 17 + 64 + 2) + CHUNK_SIZE_BYTES + 2;
    wire[secondChunkData + 100] = wire[secondChunkData + 100]! ^ 0xff;
    const response = await sendRaw(server.url, { method: "PUT", path, headers, body: [wire] });
    expect(response.status).toBe(403);
    expect(errorFields(response.body).Code).toBe("SignatureDoesNotMatch");
    expect((await getObject(server.url, "tampered")).status).toBe(404);
  });

  it("rejects a wrong checksum trailer with BadDigest and stores nothing", async () => {
    const body = randomBody(20_000);
    const { path, headers, wire } = buildChunkedPut(
      server.url,
      "bad-trailer",
      body,
      "unsigned-trailer",
    );
    const text = wire.toString("latin1");
    const at = text.indexOf("x-amz-checksum-crc32:") + "x-amz-checksum-crc32:".length;
    wire.write(text[at] === "A" ? "B" : "A", at, "latin1");
    const response = await sendRaw(server.url, { method: "PUT", path, headers, body: [wire] });
    expect(response.status).toBe(400);
    expect(errorFields(response.body).Code).toBe("BadDigest");
    expect((await getObject(server.url, "bad-trailer")).status).toBe(404);
  });

  it("rejects a body shorter than x-amz-decoded-content-length", async () => {
    const body = randomBody(20_000);
    const { path, headers, wire } = buildChunkedPut(server.url, "short", body, "signed", {
      withContentLength: false,
      declaredLength: 30_000,
    });
    const response = await sendRaw(server.url, { method: "PUT", path, headers, body: [wire] });
    expect(response.status).toBe(400);
    expect(errorFields(response.body).Code).toBe("IncompleteBody");
    expect((await getObject(server.url, "short")).status).toBe(404);
  });
});

describe('profile "ceph16"', () => {
  let server: LocalS3;

  beforeAll(async () => {
    server = await createLocalS3({
      credentials: CREDENTIALS,
      buckets: [BUCKET],
      profile: "ceph16",
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it("stores a signed aws-chunked upload with Content-Length", async () => {
    const body = randomBody(150_000);
    const { path, headers, wire } = buildChunkedPut(server.url, "signed", body, "signed");
    const response = await sendRaw(server.url, { method: "PUT", path, headers, body: [wire] });
    expect(response.status).toBe(200);
    expect(sha256Hex((await getObject(server.url, "signed")).body)).toBe(sha256Hex(body));
  });

  it.each(["signed-trailer", "unsigned-trailer"] as const)(
    "rejects %s uploads with 400 XAmzContentSHA256Mismatch",
    async (mode) => {
      const { path, headers, wire } = buildChunkedPut(
        server.url,
        `trailer-${mode}`,
        randomBody(1000),
        mode,
      );
      const response = await sendRaw(server.url, { method: "PUT", path, headers, body: [wire] });
      expect(response.status).toBe(400);
      expect(errorFields(response.body).Code).toBe("XAmzContentSHA256Mismatch");
      expect((await getObject(server.url, `trailer-${mode}`)).status).toBe(404);
    },
  );

  it("rejects a chunked body without Content-Length with 411 MissingContentLength", async () => {
    const { path, headers, wire } = buildChunkedPut(
      server.url,
      "no-length",
      randomBody(1000),
      "signed",
      {
        withContentLength: false,
      },
    );
    const response = await sendRaw(server.url, { method: "PUT", path, headers, body: [wire] });
    expect(response.status).toBe(411);
    expect(errorFields(response.body).Code).toBe("MissingContentLength");
  });
});
