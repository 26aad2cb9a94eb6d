// Captures the aws-chunked bodies @aws-sdk/client-s3 sends (STREAMING-UNSIGNED-PAYLOAD-TRAILER, the
// SDK default for streamed uploads) on a loopback server, checks that they are still the committed
// vectors in chunked-sdk-capture.json, and decodes them with the checksum verified.
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { PutObjectCommand, S3Client, type ChecksumAlgorithm } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChunkDecoder, parseDeclaredTrailers } from "../src/chunked.ts";
import { createChunkEncoder, signedChunkedLength } from "../src/chunked-encoder.ts";
import { resignChunked } from "../src/chunked-streams.ts";
import { parseChecksumAlgorithm } from "../src/checksums.ts";
import { nodeCryptoProvider } from "../src/node.ts";
import {
  concat,
  expectSameBytes,
  flipBits,
  loadSdkCaptures,
  payload,
  testContext,
} from "./chunked-fixtures.ts";

interface Captured {
  headers: IncomingHttpHeaders;
  body: Uint8Array;
}

const file = loadSdkCaptures();
const data = payload(file.payload.lengthBytes);
let server: Server;
let client: S3Client;
const captured: Captured[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      captured.push({ headers: request.headers, body: concat(parts) });
      response.writeHead(200, { ETag: '"0"' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  client = new S3Client({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    },
  });
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) =>
    server == null ? resolve() : server.close(() => resolve()),
  );
});

const putObject = async (checksumAlgorithm: string | null): Promise<Captured> => {
  const before = captured.length;
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (const size of file.payload.streamPiecesBytes) {
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  await client.send(
    new PutObjectCommand({
      Bucket: "bucket",
      Key: "key",
      Body: Readable.from(pieces),
      ContentLength: data.length,
      ...(checksumAlgorithm == null
        ? {}
        : { ChecksumAlgorithm: checksumAlgorithm as ChecksumAlgorithm }),
    }),
  );
  expect(captured.length).toBe(before + 1);
  return captured[before]!;
};

describe("aws-chunked bodies from @aws-sdk/client-s3", () => {
  it.each(
    file.captures.map(
      (capture) => [capture.checksumAlgorithmOption ?? "default (CRC32)", capture] as const,
    ),
  )("are the committed vector and decode with a verified checksum: %s", async (_name, capture) => {
    const { headers, body } = await putObject(capture.checksumAlgorithmOption);
    for (const [name, value] of Object.entries(capture.headers)) expect(headers[name]).toBe(value);
    expect(createHash("sha256").update(body).digest("hex")).toBe(capture.wireSha256);

    const trailerHeader = headers["x-amz-trailer"] as string;
    const decoder = createChunkDecoder({
      mode: "streaming-unsigned-trailer",
      declaredTrailers: parseDeclaredTrailers(trailerHeader),
      decodedContentLength: Number(headers["x-amz-decoded-content-length"]),
      crypto: nodeCryptoProvider,
    });
    const out: Uint8Array[] = [];
    for (let offset = 0; offset < body.length; offset += 1500)
      out.push(...decoder.push(body.subarray(offset, offset + 1500)));
    const result = decoder.end();
    expectSameBytes(concat(out), data);
    expect(result.checksum?.algorithm).toBe(parseChecksumAlgorithm(trailerHeader));
    expect(result.checksum?.actual).toBe(result.checksum?.expected);
  });

  it("detects a payload byte changed in an SDK body", async () => {
    const { headers, body } = await putObject(null);
    const tampered = body.slice();
    flipBits(tampered, 50_000, 0x10);
    const decoder = createChunkDecoder({
      mode: "streaming-unsigned-trailer",
      declaredTrailers: parseDeclaredTrailers(headers["x-amz-trailer"] as string),
    });
    decoder.push(tampered);
    expect(() => decoder.end()).toThrowError(expect.objectContaining({ code: "BadDigest" }));
  });

  it("translates an SDK body into a signed stream for another key with the exact Content-Length", async () => {
    const { headers, body } = await putObject("CRC32C");
    const upstream = testContext("9".repeat(64));
    async function* source() {
      yield body;
    }
    const pieces: Uint8Array[] = [];
    const generator = resignChunked(source(), {
      decoder: {
        mode: "streaming-unsigned-trailer",
        declaredTrailers: parseDeclaredTrailers(headers["x-amz-trailer"] as string),
        crypto: nodeCryptoProvider,
      },
      encoder: createChunkEncoder({ signing: upstream, trailer: true, crypto: nodeCryptoProvider }),
    });
    for await (const piece of generator) pieces.push(piece);
    const wire = concat(pieces);
    const trailerValue = Buffer.from(body)
      .toString("latin1")
      .match(/x-amz-checksum-crc32c:(\S+)\r\n/)![1]!;
    expect(wire.length).toBe(
      signedChunkedLength(data.length, { trailers: [["x-amz-checksum-crc32c", trailerValue]] }),
    );
    const decoder = createChunkDecoder({
      mode: "streaming-signed-trailer",
      signing: upstream,
      declaredTrailers: ["x-amz-checksum-crc32c"],
      crypto: nodeCryptoProvider,
    });
    expectSameBytes(concat(decoder.push(wire)), data);
    expect(decoder.end().trailers).toEqual([["x-amz-checksum-crc32c", trailerValue]]);
  });
});
