// Through OSP to a real (embedded) S3 backend with the AWS SDK at its defaults: every body
// compared by SHA-256, presigned URLs made with the CLIENT key against OSP's URL.
import { createHash, randomBytes } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { LocalS3 } from "@osp/local-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerHandle } from "../src/index.ts";
import {
  BUCKET,
  LogCapture,
  ospConfig,
  s3Client,
  startBackend,
  startOsp,
} from "./support/harness.ts";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

describe("S3 through OSP (aws-sdk v3, path style, default checksums)", () => {
  let backend: LocalS3;
  let osp: ServerHandle;
  let client: S3Client;
  const logs = new LogCapture();

  beforeAll(async () => {
    backend = await startBackend();
    osp = await startOsp(ospConfig(backend.port, { logDestination: logs }));
    client = s3Client(osp.http!.url);
  });

  afterAll(async () => {
    client?.destroy();
    await osp?.close();
    await backend?.close();
  });

  const getBytes = async (
    key: string,
    range?: string,
  ): Promise<{
    bytes: Uint8Array;
    output: Awaited<ReturnType<S3Client["send"]>> & Record<string, unknown>;
  }> => {
    const output = await client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: key, ...(range != null && { Range: range }) }),
    );
    const bytes = await output.Body!.transformToByteArray();
    return { bytes, output: output as never };
  };

  it("puts and gets an object with identical bytes", async () => {
    const body = randomBytes(1024 * 1024 + 17);
    const put = await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "blob.bin", Body: body }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const { bytes } = await getBytes("blob.bin");
    expect(sha256(bytes)).toBe(sha256(body));
  });

  it("round-trips user metadata, Content-Type and Cache-Control", async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "meta.txt",
        Body: "hello metadata",
        ContentType: "text/plain; charset=utf-8",
        CacheControl: "max-age=60",
        Metadata: { owner: "team-a", "mixed-case": "Value With Spaces" },
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "meta.txt" }));
    expect(head.ContentType).toBe("text/plain; charset=utf-8");
    expect(head.CacheControl).toBe("max-age=60");
    expect(head.ContentLength).toBe(14);
    expect(head.Metadata).toEqual({ owner: "team-a", "mixed-case": "Value With Spaces" });
  });

  it("answers HEAD of a missing key with 404 and no body", async () => {
    await expect(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "absent" })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it("serves byte ranges", async () => {
    const body = randomBytes(10_000);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "range.bin", Body: body }));
    const { bytes, output } = await getBytes("range.bin", "bytes=100-1099");
    expect(output.ContentRange).toBe("bytes 100-1099/10000");
    expect(sha256(bytes)).toBe(sha256(body.subarray(100, 1100)));
    const suffix = await getBytes("range.bin", "bytes=-10");
    expect(Buffer.from(suffix.bytes)).toEqual(body.subarray(9990));
  });

  it("lists with a prefix and paginates", async () => {
    for (let i = 0; i < 5; i += 1) {
      await client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `list/item-${i}`, Body: `n${i}` }),
      );
    }
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: "list/",
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      keys.push(...(page.Contents ?? []).map((entry) => entry.Key!));
      token = page.NextContinuationToken;
      pages += 1;
    } while (token != null);
    expect(pages).toBe(3);
    expect(keys).toEqual([
      "list/item-0",
      "list/item-1",
      "list/item-2",
      "list/item-3",
      "list/item-4",
    ]);
  });

  it("lists the configured buckets", async () => {
    const output = await client.send(new ListBucketsCommand({}));
    expect(output.Buckets?.map((bucket) => bucket.Name)).toEqual([BUCKET]);
  });

  it("copies an object", async () => {
    const body = randomBytes(300_000);
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "copy/source one+two", Body: body }),
    );
    await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: "copy/target",
        CopySource: `${BUCKET}/${encodeURIComponent("copy/source one+two")}`,
      }),
    );
    const { bytes } = await getBytes("copy/target");
    expect(bytes.byteLength).toBe(body.byteLength);
    expect(sha256(bytes)).toBe(sha256(body));
  });

  it("uploads in parts and reassembles the object", async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "multi/part.bin" }),
    );
    const etags: string[] = [];
    for (const [index, part] of parts.entries()) {
      const output = await client.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: "multi/part.bin",
          UploadId,
          PartNumber: index + 1,
          Body: part,
        }),
      );
      etags.push(output.ETag!);
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "multi/part.bin",
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
    const { bytes } = await getBytes("multi/part.bin");
    expect(sha256(bytes)).toBe(sha256(Buffer.concat(parts)));
  });

  it("honours presigned GET and PUT URLs made with the client key", async () => {
    const body = randomBytes(50_000);
    // At default checksum settings the presigner signs the CRC32 of an empty body into the URL;
    // a presigned upload of other bytes needs checksums only when required (as S3 itself does).
    const presigner = s3Client(osp.http!.url, { requestChecksumCalculation: "WHEN_REQUIRED" });
    const putUrl = await getSignedUrl(
      presigner,
      new PutObjectCommand({ Bucket: BUCKET, Key: "presigned/obj 1" }),
      {
        expiresIn: 300,
      },
    );
    presigner.destroy();
    expect(putUrl.startsWith(osp.http!.url)).toBe(true);
    const put = await fetch(putUrl, { method: "PUT", body });
    expect(put.status).toBe(200);
    const getUrl = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/obj 1" }),
      {
        expiresIn: 300,
      },
    );
    const get = await fetch(getUrl);
    expect(get.status).toBe(200);
    expect(sha256(new Uint8Array(await get.arrayBuffer()))).toBe(sha256(body));

    const tampered = getUrl.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_, first: string) => `X-Amz-Signature=${first === "0" ? "1" : "0"}`,
    );
    const denied = await fetch(tampered);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("stores and lists hostile keys unchanged", async () => {
    const keys = [
      "with space.txt",
      "plus+sign.txt",
      "percent%25literal%.txt",
      "equals=sign&amp.txt",
      "colon:semi;comma,.txt",
      "unicodé/ключ/键/😀.txt",
      "double//slash///x",
      "trailing-dot.",
      "tilde~and*star(paren)!'",
      "hash#question?mark",
    ];
    for (const [index, key] of keys.entries()) {
      const body = Buffer.from(`body-${index}-${key}`);
      await client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `hostile/${key}`, Body: body }),
      );
      const { bytes } = await getBytes(`hostile/${key}`);
      expect(Buffer.from(bytes).toString(), key).toBe(body.toString());
    }
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "hostile/" }),
    );
    expect(listed.Contents?.map((entry) => entry.Key).sort()).toEqual(
      keys.map((key) => `hostile/${key}`).sort(),
    );
  });

  it("deletes objects", async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "delete-me", Body: "x" }));
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "delete-me" }));
    await expect(
      client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "delete-me" })),
    ).rejects.toMatchObject({
      name: "NoSuchKey",
    });
  });

  it("rejects a wrong client secret with SignatureDoesNotMatch and an unknown key with InvalidAccessKeyId", async () => {
    const wrongSecret = s3Client(osp.http!.url, {
      credentials: { accessKeyId: "OSPCLIENTKEY0001", secretAccessKey: "wrong" },
    });
    const unknown = s3Client(osp.http!.url, {
      credentials: { accessKeyId: "NOSUCHKEY", secretAccessKey: "x" },
    });
    try {
      await expect(
        wrongSecret.send(new GetObjectCommand({ Bucket: BUCKET, Key: "blob.bin" })),
      ).rejects.toMatchObject({
        name: "SignatureDoesNotMatch",
        $metadata: { httpStatusCode: 403 },
      });
      await expect(
        unknown.send(new GetObjectCommand({ Bucket: BUCKET, Key: "blob.bin" })),
      ).rejects.toMatchObject({
        name: "InvalidAccessKeyId",
      });
    } finally {
      wrongSecret.destroy();
      unknown.destroy();
    }
  });

  it("sends the request id of every response as x-amz-request-id and logs it", async () => {
    const output = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "blob.bin" }));
    const requestId = output.$metadata.requestId;
    expect(requestId).toMatch(/^[0-9A-F]{16}$/);
    await expect
      .poll(() =>
        logs.records().some((record) => record.log === "access" && record.requestId === requestId),
      )
      .toBe(true);
  });
});
