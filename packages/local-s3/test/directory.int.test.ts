// Directory storage: data survives close/reopen, failed or aborted uploads leave nothing behind,
// and a download in progress keeps its bytes through an overwrite.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { STREAMING_SIGNED_PAYLOAD, createChunkEncoder, signedChunkedLength } from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalS3, type LocalS3 } from "../src/index.ts";
import {
  CREDENTIALS,
  errorFields,
  expectS3Error,
  makeClient,
  randomBody,
  readBody,
  sendRaw,
  sha256Hex,
  signRaw,
} from "./helpers.ts";

const BUCKET = "durable";
const HOSTILE_KEY = "dir//ключ 😀/a+b%c=d:e";
const PART_SIZE_BYTES = 64 * 1024;

let root: string;
let server: LocalS3;
let client: S3Client;

const open = async () => {
  server = await createLocalS3({
    credentials: CREDENTIALS,
    storage: { directory: root },
    buckets: [BUCKET],
    minPartSizeBytes: PART_SIZE_BYTES,
  });
  client = makeClient(server.url);
};

const reopen = async () => {
  client.destroy();
  await server.close();
  await open();
};

const files = async (folder: string) => (await readdir(join(root, folder))).sort();

/** Polls (bounded) until the check passes: server-side clean-up after a client abort is async. */
const eventually = async (check: () => Promise<void>, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
};

const download = async (key: string) => {
  const result = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { result, bytes: await readBody(result.Body) };
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "local-s3-dir-"));
  await open();
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  if (root != null) await rm(root, { recursive: true, force: true });
});

describe("directory storage", () => {
  const simple = randomBody(123_456);
  const hostile = randomBody(999);
  const parts = [randomBody(PART_SIZE_BYTES), randomBody(PART_SIZE_BYTES), randomBody(777)];
  let multipartEtag: string | undefined;
  let pendingUploadId: string | undefined;
  const pendingParts = [randomBody(PART_SIZE_BYTES), randomBody(1000)];

  it("survives close and reopen: buckets, objects, metadata, multipart objects and uploads in progress", async () => {
    server.createBucket("empty-bucket");
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "simple",
        Body: simple,
        ContentType: "text/x-simple",
        Metadata: { owner: "test" },
      }),
    );
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: HOSTILE_KEY, Body: hostile }));
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "multi" }),
    );
    const etags: string[] = [];
    for (const [index, Body] of parts.entries()) {
      etags.push(
        (
          await client.send(
            new UploadPartCommand({
              Bucket: BUCKET,
              Key: "multi",
              UploadId,
              PartNumber: index + 1,
              Body,
            }),
          )
        ).ETag!,
      );
    }
    multipartEtag = (
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "multi",
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        }),
      )
    ).ETag;
    pendingUploadId = (
      await client.send(
        new CreateMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "pending",
          ContentType: "x/pending",
        }),
      )
    ).UploadId;
    await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: "pending",
        UploadId: pendingUploadId,
        PartNumber: 1,
        Body: pendingParts[0],
      }),
    );

    // Debris a crash could leave: a temp file and a blob no record references.
    await writeFile(join(root, "tmp", "half-written"), "partial");
    await writeFile(join(root, "blobs", "orphan"), "orphan");
    await reopen();
    expect(await files("tmp")).toEqual([]);
    expect(await files("blobs")).not.toContain("orphan");

    const buckets = await client.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((bucket) => bucket.Name)).toEqual(["durable", "empty-bucket"]);
    const simpleDownload = await download("simple");
    expect(sha256Hex(simpleDownload.bytes)).toBe(sha256Hex(simple));
    expect(simpleDownload.result).toMatchObject({
      ContentType: "text/x-simple",
      Metadata: { owner: "test" },
    });
    expect(sha256Hex((await download(HOSTILE_KEY)).bytes)).toBe(sha256Hex(hostile));
    const multi = await download("multi");
    expect(multi.result.ETag).toBe(multipartEtag);
    expect(sha256Hex(multi.bytes)).toBe(sha256Hex(Buffer.concat(parts)));

    const listed = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: "pending", UploadId: pendingUploadId }),
    );
    expect(listed.Parts?.map((part) => part.PartNumber)).toEqual([1]);
    const second = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: "pending",
        UploadId: pendingUploadId,
        PartNumber: 2,
        Body: pendingParts[1],
      }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "pending",
        UploadId: pendingUploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: listed.Parts![0]!.ETag },
            { PartNumber: 2, ETag: second.ETag },
          ],
        },
      }),
    );
    const pending = await download("pending");
    expect(sha256Hex(pending.bytes)).toBe(sha256Hex(Buffer.concat(pendingParts)));
    expect(pending.result.ContentType).toBe("x/pending");
    expect(await files("uploads")).toEqual([]);
  });

  it("deletes an object's blobs with it", async () => {
    const before = (await files("blobs")).length;
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "multi" }));
    await eventually(async () => expect((await files("blobs")).length).toBe(before - parts.length));
    await reopen();
    await expectS3Error(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "multi" })),
      "NotFound",
      404,
    );
  });

  it("leaves no file behind when a chunk signature fails mid-upload", async () => {
    const blobsBefore = await files("blobs");
    const body = randomBody(5 * 64 * 1024);
    const path = `/${BUCKET}/tampered`;
    const signed = signRaw(server.url, {
      method: "PUT",
      path,
      headers: [
        ["content-encoding", "aws-chunked"],
        ["x-amz-decoded-content-length", String(body.length)],
        ["content-length", String(signedChunkedLength(body.length))],
      ],
      payloadHash: STREAMING_SIGNED_PAYLOAD,
    });
    const encoder = createChunkEncoder({
      signing: {
        signingKey: signed.signingKey,
        amzDate: signed.amzDate,
        scope: signed.scope,
        seedSignature: signed.signature,
      },
      crypto: nodeCryptoProvider,
    });
    const wire = Buffer.concat(
      [...encoder.push(body), ...encoder.end()].map((piece) => Buffer.from(piece)),
    );
    wire[wire.length - 500] = wire[wire.length - 500]! ^ 0x01;
    const response = await sendRaw(server.url, {
      method: "PUT",
      path,
      headers: signed.headers,
      body: [wire],
    });
    expect(response.status).toBe(403);
    expect(errorFields(response.body).Code).toBe("SignatureDoesNotMatch");
    expect(await files("tmp")).toEqual([]);
    expect(await files("blobs")).toEqual(blobsBefore);
    await expectS3Error(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "tampered" })),
      "NotFound",
      404,
    );
  });

  it("leaves no file behind when the client disconnects mid-upload", async () => {
    const blobsBefore = await files("blobs");
    const requestsBefore = server.requests;
    const body = randomBody(1024 * 1024);
    const path = `/${BUCKET}/abandoned`;
    const signed = signRaw(server.url, {
      method: "PUT",
      path,
      headers: [["content-length", String(body.length)]],
      payloadHash: "UNSIGNED-PAYLOAD",
    });
    await sendRaw(server.url, {
      method: "PUT",
      path,
      headers: signed.headers,
      body: [body.subarray(0, 300_000)],
      abortAfterBody: true,
    });
    expect(server.requests).toBe(requestsBefore + 1);
    await eventually(async () => expect(await files("tmp")).toEqual([]));
    expect(await files("blobs")).toEqual(blobsBefore);
    await expectS3Error(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "abandoned" })),
      "NotFound",
      404,
    );
  });

  it("finishes a download with the old bytes when the object is overwritten and deleted meanwhile", async () => {
    const original = randomBody(8 * 1024 * 1024);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "busy", Body: original }));
    const result = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "busy" }));
    const iterator = (result.Body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "busy", Body: randomBody(1000) }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "busy" }));
    const chunks = [Buffer.from(first.value as Uint8Array)];
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next())
      chunks.push(Buffer.from(next.value));
    expect(sha256Hex(Buffer.concat(chunks))).toBe(sha256Hex(original));
  });
});
