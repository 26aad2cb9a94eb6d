// The "ceph16" profile against @aws-sdk/client-s3 at its defaults: stream uploads fail as they
// do against Ceph RGW 16; buffered uploads, multipart and any region work.
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalS3, type LocalS3, type LocalS3RequestEvent } from "../src/index.ts";
import {
  CREDENTIALS,
  expectS3Error,
  makeClient,
  randomBody,
  readBody,
  sha256Hex,
} from "./helpers.ts";

const BUCKET = "ceph-bucket";
const MiB = 1024 * 1024;

let server: LocalS3;
let client: S3Client;
let scratch: string;
const events: LocalS3RequestEvent[] = [];

beforeAll(async () => {
  server = await createLocalS3({
    credentials: CREDENTIALS,
    buckets: [BUCKET],
    profile: "ceph16",
    onRequest: (event) => events.push(event),
  });
  client = makeClient(server.url);
  scratch = await mkdtemp(join(tmpdir(), "local-s3-ceph-"));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  if (scratch != null) await rm(scratch, { recursive: true, force: true });
});

describe('profile "ceph16" with @aws-sdk/client-s3 defaults', () => {
  it("rejects the default stream upload (STREAMING-UNSIGNED-PAYLOAD-TRAILER) with 400 and stores nothing", async () => {
    const file = join(scratch, "stream.bin");
    await writeFile(file, randomBody(100_000));
    events.length = 0;
    await expectS3Error(
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "streamed", Body: createReadStream(file) }),
      ),
      "XAmzContentSHA256Mismatch",
      400,
    );
    expect(events[0]?.payloadMode).toBe("streaming-unsigned-trailer");
    await expectS3Error(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "streamed" })),
      "NotFound",
      404,
    );
  });

  it("stores buffered uploads (signed payload hash, CRC32 header)", async () => {
    const body = randomBody(200_000);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "buffered", Body: body }));
    const result = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "buffered" }));
    expect(sha256Hex(await readBody(result.Body))).toBe(sha256Hex(body));
  });

  it("completes a buffered multipart upload", async () => {
    const parts = [randomBody(5 * MiB), randomBody(MiB)];
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "multi" }),
    );
    const etags: string[] = [];
    for (const [index, Body] of parts.entries()) {
      const uploaded = await client.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: "multi",
          UploadId,
          PartNumber: index + 1,
          Body,
        }),
      );
      etags.push(uploaded.ETag!);
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "multi",
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
    const result = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "multi" }));
    expect(sha256Hex(await readBody(result.Body))).toBe(sha256Hex(Buffer.concat(parts)));
  });

  it("accepts a signature scoped to any region, as RGW does", async () => {
    const elsewhere = makeClient(server.url, { region: "mars-north-1" });
    try {
      const listed = await elsewhere.send(new ListBucketsCommand({}));
      expect(listed.Buckets?.map((bucket) => bucket.Name)).toContain(BUCKET);
    } finally {
      elsewhere.destroy();
    }
  });
});
