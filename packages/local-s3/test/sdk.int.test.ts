// @aws-sdk/client-s3 at its defaults against local-s3 (profile "aws", memory storage).
import { createWriteStream, createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalS3, type LocalS3, type LocalS3RequestEvent } from "../src/index.ts";
import {
  CREDENTIALS,
  errorFields,
  expectS3Error,
  makeClient,
  md5Hex,
  randomBody,
  readBody,
  sendRaw,
  sha256Hex,
  signRaw,
} from "./helpers.ts";

const BUCKET = "sdk-bucket";
const MiB = 1024 * 1024;

// Keys real clients trip over: spaces, "+", "%", "=", ":", unicode, "//", leading "/", and
// characters that are special in URLs or XML.
const HOSTILE_KEYS = [
  "with space.txt",
  "plus+sign",
  "100% literal%20percent",
  "equals=sign&amp=x",
  "colon:key:",
  "unicode/ключ/日本語/😀.bin",
  "double//slash///triple",
  "/leading-slash",
  "trailing-slash/",
  "question?hash#mark",
  "xml <&> \"quotes\" 'apos'",
  "tilde~star*(paren)!",
  "dots/../and/./segments",
  "tab\tand\u00a0nbsp",
];

let server: LocalS3;
let client: S3Client;
const events: LocalS3RequestEvent[] = [];
let scratch: string;

beforeAll(async () => {
  server = await createLocalS3({
    credentials: CREDENTIALS,
    buckets: [BUCKET],
    onRequest: (event) => events.push(event),
  });
  client = makeClient(server.url);
  scratch = await mkdtemp(join(tmpdir(), "local-s3-sdk-"));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  if (scratch != null) await rm(scratch, { recursive: true, force: true });
});

const put = (key: string, body: Buffer | string, extra: Record<string, unknown> = {}) =>
  client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...extra }));

const getBytes = async (key: string, extra: Record<string, unknown> = {}) => {
  const result = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ...extra }));
  return { result, bytes: await readBody(result.Body) };
};

describe("buckets", () => {
  it("creates, lists, heads, locates and deletes a bucket", async () => {
    await client.send(new CreateBucketCommand({ Bucket: "second-bucket" }));
    const listed = await client.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((bucket) => bucket.Name)).toEqual(
      expect.arrayContaining([BUCKET, "second-bucket"]),
    );
    expect(listed.Buckets?.every((bucket) => bucket.CreationDate instanceof Date)).toBe(true);
    const head = await client.send(new HeadBucketCommand({ Bucket: "second-bucket" }));
    expect(head.BucketRegion).toBe("us-east-1");
    const location = await client.send(new GetBucketLocationCommand({ Bucket: "second-bucket" }));
    expect(location.LocationConstraint ?? "").toBe("");

    await client.send(new PutObjectCommand({ Bucket: "second-bucket", Key: "k", Body: "x" }));
    await expectS3Error(
      client.send(new DeleteBucketCommand({ Bucket: "second-bucket" })),
      "BucketNotEmpty",
      409,
    );
    await client.send(new DeleteObjectCommand({ Bucket: "second-bucket", Key: "k" }));
    await client.send(new DeleteBucketCommand({ Bucket: "second-bucket" }));
    await expectS3Error(
      client.send(new HeadBucketCommand({ Bucket: "second-bucket" })),
      "NotFound",
      404,
    );
    await expectS3Error(
      client.send(new ListObjectsV2Command({ Bucket: "second-bucket" })),
      "NoSuchBucket",
      404,
    );
  });

  it("refuses an existing bucket and an invalid name", async () => {
    await expectS3Error(
      client.send(new CreateBucketCommand({ Bucket: BUCKET })),
      "BucketAlreadyOwnedByYou",
      409,
    );
    await expectS3Error(
      client.send(new CreateBucketCommand({ Bucket: "Bad_Name" })),
      "InvalidBucketName",
      400,
    );
  });

  it("creates buckets through the handle", async () => {
    server.createBucket("handle-bucket");
    server.createBucket("handle-bucket");
    await client.send(new HeadBucketCommand({ Bucket: "handle-bucket" }));
    expect(() => server.createBucket("x")).toThrow(/not valid/);
  });
});

describe("objects", () => {
  it("round-trips bytes, ETag and representation headers and metadata", async () => {
    const body = randomBody(300_000);
    const written = await put("meta/object.bin", body, {
      ContentType: "application/x-test; charset=binary",
      ContentEncoding: "identity",
      ContentDisposition: 'attachment; filename="object.bin"',
      CacheControl: "max-age=60, private",
      ContentLanguage: "de-CH",
      Metadata: { color: "blue", "multi-word": "a b  c", empty: "" },
    });
    expect(written.ETag).toBe(`"${md5Hex(body)}"`);
    const head = await client.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: "meta/object.bin" }),
    );
    expect(head).toMatchObject({
      ContentLength: body.length,
      ContentType: "application/x-test; charset=binary",
      ContentEncoding: "identity",
      ContentDisposition: 'attachment; filename="object.bin"',
      CacheControl: "max-age=60, private",
      ContentLanguage: "de-CH",
      ETag: written.ETag,
      Metadata: { color: "blue", "multi-word": "a b  c", empty: "" },
    });
    expect(head.LastModified).toBeInstanceOf(Date);
    const { result, bytes } = await getBytes("meta/object.bin");
    expect(sha256Hex(bytes)).toBe(sha256Hex(body));
    expect(result.Metadata).toEqual({ color: "blue", "multi-word": "a b  c", empty: "" });
    expect(result.AcceptRanges).toBe("bytes");
  });

  it("defaults the content type to binary/octet-stream when none is sent", async () => {
    const response = await sendRaw(server.url, {
      method: "PUT",
      path: `/${BUCKET}/no-type`,
      headers: signRaw(server.url, {
        method: "PUT",
        path: `/${BUCKET}/no-type`,
        headers: [["content-length", "2"]],
        payloadHash: sha256Hex("hi"),
      }).headers,
      body: [Buffer.from("hi")],
    });
    expect(response.status).toBe(200);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "no-type" }));
    expect(head.ContentType).toBe("binary/octet-stream");
  });

  it("uploads a stream with the SDK's default STREAMING-UNSIGNED-PAYLOAD-TRAILER and CRC32 trailer", async () => {
    const body = randomBody(3 * MiB + 123);
    const file = join(scratch, "upload.bin");
    await pipeline(Readable.from([body]), createWriteStream(file));
    events.length = 0;
    const written = await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "streamed/file.bin",
        Body: createReadStream(file),
      }),
    );
    expect(events.find((event) => event.operation === "PutObject")?.payloadMode).toBe(
      "streaming-unsigned-trailer",
    );
    expect(written.ETag).toBe(`"${md5Hex(body)}"`);
    expect(written.ChecksumCRC32).toBeDefined();
    const { bytes, result } = await getBytes("streamed/file.bin", { ChecksumMode: "ENABLED" });
    expect(sha256Hex(bytes)).toBe(sha256Hex(body));
    expect(result.ChecksumCRC32).toBe(written.ChecksumCRC32);
    // aws-chunked is framing, not an encoding of the stored object.
    expect(result.ContentEncoding).toBeUndefined();

    const readable = Readable.from([body.subarray(0, 1000), body.subarray(1000, 5000)]);
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "streamed/readable",
        Body: readable,
        ContentLength: 5000,
      }),
    );
    expect(sha256Hex((await getBytes("streamed/readable")).bytes)).toBe(
      sha256Hex(body.subarray(0, 5000)),
    );
  });

  it("stores empty objects", async () => {
    const written = await put("empty", Buffer.alloc(0));
    expect(written.ETag).toBe(`"${md5Hex("")}"`);
    const { bytes, result } = await getBytes("empty");
    expect(bytes.length).toBe(0);
    expect(result.ContentLength).toBe(0);
  });

  it("handles hostile keys in PUT, GET, HEAD, LIST, COPY and DELETE", async () => {
    const bodies = new Map(HOSTILE_KEYS.map((key) => [key, randomBody(1000 + key.length)]));
    for (const [key, body] of bodies) await put(`hostile/${key}`, body);
    for (const [key, body] of bodies) {
      const { bytes } = await getBytes(`hostile/${key}`);
      expect(sha256Hex(bytes), key).toBe(sha256Hex(body));
      const head = await client.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: `hostile/${key}` }),
      );
      expect(head.ContentLength, key).toBe(body.length);
    }
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "hostile/" }),
    );
    expect(listed.Contents?.map((object) => object.Key).sort()).toEqual(
      HOSTILE_KEYS.map((key) => `hostile/${key}`).sort(),
    );
    for (const key of HOSTILE_KEYS) {
      await client.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: `hostile-copy/${key}`,
          CopySource: `${BUCKET}/${encodeURIComponent(`hostile/${key}`)}`,
        }),
      );
      const { bytes } = await getBytes(`hostile-copy/${key}`);
      expect(sha256Hex(bytes), key).toBe(sha256Hex(bodies.get(key)!));
      await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `hostile/${key}` }));
      await expectS3Error(
        client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `hostile/${key}` })),
        "NotFound",
        404,
      );
    }
  });

  it("serves single ranges, suffix ranges and 416 for unsatisfiable ones", async () => {
    const body = randomBody(1000);
    await put("ranged", body);
    const cases: Array<[string, number, number]> = [
      ["bytes=0-9", 0, 9],
      ["bytes=990-", 990, 999],
      ["bytes=-5", 995, 999],
      ["bytes=500-5000", 500, 999],
    ];
    for (const [range, start, end] of cases) {
      const { result, bytes } = await getBytes("ranged", { Range: range });
      expect(result.$metadata.httpStatusCode, range).toBe(206);
      expect(result.ContentRange, range).toBe(`bytes ${start}-${end}/1000`);
      expect(sha256Hex(bytes), range).toBe(sha256Hex(body.subarray(start, end + 1)));
    }
    await expectS3Error(getBytes("ranged", { Range: "bytes=1000-" }), "InvalidRange", 416);
  });

  it("evaluates read preconditions", async () => {
    const written = await put("conditional", "v1");
    const lastModified = (
      await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "conditional" }))
    ).LastModified!;
    expect((await getBytes("conditional", { IfMatch: written.ETag })).bytes.toString()).toBe("v1");
    await expectS3Error(getBytes("conditional", { IfMatch: '"nope"' }), "PreconditionFailed", 412);
    // A 304 has no body, so the SDK cannot name it: the status is what counts.
    const notModified = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (thrown: { $metadata?: { httpStatusCode?: number } }) => thrown,
      );
      expect(error?.$metadata?.httpStatusCode).toBe(304);
    };
    await notModified(getBytes("conditional", { IfNoneMatch: written.ETag }));
    await notModified(
      getBytes("conditional", { IfModifiedSince: new Date(lastModified.getTime() + 1000) }),
    );
    await expectS3Error(
      getBytes("conditional", { IfUnmodifiedSince: new Date(lastModified.getTime() - 1000) }),
      "PreconditionFailed",
      412,
    );
    expect((await getBytes("conditional", { IfModifiedSince: new Date(0) })).bytes.toString()).toBe(
      "v1",
    );
  });

  it("refuses an overwrite with If-None-Match: * and honours If-Match on writes", async () => {
    await put("create-only", "first", { IfNoneMatch: "*" });
    await expectS3Error(
      put("create-only", "second", { IfNoneMatch: "*" }),
      "PreconditionFailed",
      412,
    );
    await expectS3Error(
      put("create-only", "second", { IfMatch: '"wrong"' }),
      "PreconditionFailed",
      412,
    );
    expect((await getBytes("create-only")).bytes.toString()).toBe("first");
  });

  it("applies response-* overrides", async () => {
    await put("override", "x", { ContentType: "text/plain" });
    const { result } = await getBytes("override", {
      ResponseContentType: "application/json",
      ResponseContentDisposition: "inline",
      ResponseCacheControl: "no-store",
    });
    expect(result).toMatchObject({
      ContentType: "application/json",
      ContentDisposition: "inline",
      CacheControl: "no-store",
    });
  });

  it("answers NoSuchKey and NoSuchBucket", async () => {
    await expectS3Error(getBytes("missing"), "NoSuchKey", 404);
    await expectS3Error(
      client.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "k" })),
      "NoSuchBucket",
      404,
    );
    // DeleteObject of a missing key succeeds, as in S3.
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "missing" }));
  });

  it("rejects a wrong Content-MD5 and a wrong x-amz-checksum-crc32 with BadDigest and stores nothing", async () => {
    await expectS3Error(
      put("bad-md5", "abc", { ContentMD5: Buffer.from(md5Hex("abd"), "hex").toString("base64") }),
      "BadDigest",
      400,
    );
    await expectS3Error(put("bad-crc", "abc", { ChecksumCRC32: "AAAAAA==" }), "BadDigest", 400);
    await expectS3Error(getBytes("bad-md5"), "NoSuchKey", 404);
    await expectS3Error(getBytes("bad-crc"), "NoSuchKey", 404);
    await put("good-md5", "abc", {
      ContentMD5: Buffer.from(md5Hex("abc"), "hex").toString("base64"),
    });
  });
});

describe("listing", () => {
  const prefix = "list/";
  const keys = ["a/1", "a/2", "a/b/3", "b", "c/1", "c d/2", "d", "e+f", "g%h"].map(
    (key) => prefix + key,
  );

  beforeAll(async () => {
    for (const key of keys) await put(key, key);
  });

  it("lists with prefix and delimiter into CommonPrefixes", async () => {
    const result = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, Delimiter: "/" }),
    );
    expect(result.Contents?.map((object) => object.Key)).toEqual(
      ["b", "d", "e+f", "g%h"].map((key) => prefix + key),
    );
    expect(result.CommonPrefixes?.map((common) => common.Prefix)).toEqual(
      ["a/", "c d/", "c/"].map((key) => prefix + key),
    );
    expect(result.KeyCount).toBe(7);
    const first = result.Contents![0]!;
    expect(first.Size).toBe(Buffer.byteLength(first.Key!));
    expect(first.ETag).toBe(`"${md5Hex(first.Key!)}"`);
    expect(first.StorageClass).toBe("STANDARD");
  });

  it("pages with max-keys and continuation tokens", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: prefix,
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      pages++;
      seen.push(...(page.Contents ?? []).map((object) => object.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token != null);
    expect(pages).toBe(5);
    expect(seen).toEqual([...keys].sort());
  });

  it("starts after start-after and encodes keys with encoding-type=url", async () => {
    const after = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, StartAfter: `${prefix}d` }),
    );
    expect(after.Contents?.map((object) => object.Key)).toEqual([`${prefix}e+f`, `${prefix}g%h`]);
    const encoded = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}c`, EncodingType: "url" }),
    );
    expect(encoded.Contents?.map((object) => object.Key)).toEqual([
      `${prefix}c+d/2`,
      `${prefix}c/1`,
    ]);
  });

  it("lists with ListObjects v1 and a marker", async () => {
    const result = await client.send(
      new ListObjectsCommand({ Bucket: BUCKET, Prefix: prefix, Marker: `${prefix}b`, MaxKeys: 3 }),
    );
    expect(result.Contents?.map((object) => object.Key)).toEqual(
      ["c d/2", "c/1", "d"].map((key) => prefix + key),
    );
    expect(result.IsTruncated).toBe(true);
    expect(result.Contents?.[0]?.Owner?.ID).toBeTruthy();
  });

  it("deletes many keys with DeleteObjects", async () => {
    const result = await client.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: {
          Objects: keys.map((Key) => ({ Key })).concat([{ Key: `${prefix}never-existed` }]),
        },
      }),
    );
    expect(result.Deleted?.map((deleted) => deleted.Key).sort()).toEqual(
      [...keys, `${prefix}never-existed`].sort(),
    );
    const after = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    expect(after.KeyCount).toBe(0);
    const quiet = await client.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: "x" }], Quiet: true },
      }),
    );
    expect(quiet.Deleted ?? []).toEqual([]);
  });
});

describe("CopyObject", () => {
  it("copies bytes and metadata (COPY) or replaces metadata (REPLACE)", async () => {
    const body = randomBody(70_000);
    await put("copy/source", body, { ContentType: "text/source", Metadata: { origin: "source" } });
    const copied = await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: "copy/kept",
        CopySource: `/${BUCKET}/copy/source`,
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5Hex(body)}"`);
    const kept = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "copy/kept" }));
    expect(kept).toMatchObject({ ContentType: "text/source", Metadata: { origin: "source" } });

    await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: "copy/replaced",
        CopySource: `${BUCKET}/copy/source`,
        MetadataDirective: "REPLACE",
        ContentType: "text/replaced",
        Metadata: { origin: "replaced" },
      }),
    );
    const replaced = await getBytes("copy/replaced");
    expect(replaced.result).toMatchObject({
      ContentType: "text/replaced",
      Metadata: { origin: "replaced" },
    });
    expect(sha256Hex(replaced.bytes)).toBe(sha256Hex(body));
  });

  it("refuses copying onto itself without REPLACE and honours copy-source conditions", async () => {
    await put("copy/self", "x");
    await expectS3Error(
      client.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: "copy/self",
          CopySource: `${BUCKET}/copy/self`,
        }),
      ),
      "InvalidRequest",
      400,
    );
    await expectS3Error(
      client.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: "copy/never",
          CopySource: `${BUCKET}/copy/self`,
          CopySourceIfMatch: '"not-it"',
        }),
      ),
      "PreconditionFailed",
      412,
    );
    await expectS3Error(
      client.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: "copy/never",
          CopySource: `${BUCKET}/copy/none`,
        }),
      ),
      "NoSuchKey",
      404,
    );
  });
});

describe("multipart", () => {
  it("uploads three parts (5 MiB, 5 MiB, 1 MiB), lists them and completes with an md5-of-md5s ETag", async () => {
    const parts = [randomBody(5 * MiB), randomBody(5 * MiB), randomBody(MiB + 17)];
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "multi/object.bin",
        ContentType: "application/x-multi",
        Metadata: { kind: "multipart" },
      }),
    );
    const uploadId = created.UploadId!;
    const uploads = await client.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "multi/" }),
    );
    expect(uploads.Uploads?.map((upload) => [upload.Key, upload.UploadId])).toEqual([
      ["multi/object.bin", uploadId],
    ]);
    const etags: string[] = [];
    for (const [index, body] of parts.entries()) {
      const uploaded = await client.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: "multi/object.bin",
          UploadId: uploadId,
          PartNumber: index + 1,
          Body: body,
        }),
      );
      expect(uploaded.ETag).toBe(`"${md5Hex(body)}"`);
      etags.push(uploaded.ETag!);
    }
    const listed = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: "multi/object.bin", UploadId: uploadId }),
    );
    expect(listed.Parts?.map((part) => [part.PartNumber, part.ETag, part.Size])).toEqual(
      parts.map((body, index) => [index + 1, etags[index], body.length]),
    );
    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "multi/object.bin",
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
    const md5OfMd5s = md5Hex(
      Buffer.concat(etags.map((etag) => Buffer.from(etag.replaceAll('"', ""), "hex"))),
    );
    expect(completed.ETag).toBe(`"${md5OfMd5s}-3"`);
    const { result, bytes } = await getBytes("multi/object.bin");
    expect(sha256Hex(bytes)).toBe(sha256Hex(Buffer.concat(parts)));
    expect(result).toMatchObject({
      ETag: completed.ETag,
      ContentType: "application/x-multi",
      Metadata: { kind: "multipart" },
      ContentLength: 11 * MiB + 17,
    });
    // A range across the first part boundary.
    const across = await getBytes("multi/object.bin", {
      Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}`,
    });
    expect(sha256Hex(across.bytes)).toBe(
      sha256Hex(Buffer.concat(parts).subarray(5 * MiB - 10, 5 * MiB + 10)),
    );
    const second = await getBytes("multi/object.bin", { PartNumber: 2 });
    expect(second.result.PartsCount).toBe(3);
    expect(sha256Hex(second.bytes)).toBe(sha256Hex(parts[1]!));
    const after = await client.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "multi/" }),
    );
    expect(after.Uploads ?? []).toEqual([]);
  });

  it("copies parts with UploadPartCopy and x-amz-copy-source-range", async () => {
    const source = randomBody(6 * MiB);
    await put("multi/copy-source", source);
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "multi/copied" }),
    );
    const first = await client.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: "multi/copied",
        UploadId,
        PartNumber: 1,
        CopySource: `${BUCKET}/multi/copy-source`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const second = await client.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: "multi/copied",
        UploadId,
        PartNumber: 2,
        CopySource: `${BUCKET}/multi/copy-source`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    );
    expect(first.CopyPartResult?.ETag).toBe(`"${md5Hex(source.subarray(0, 5 * MiB))}"`);
    await expectS3Error(
      client.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: "multi/copied",
          UploadId,
          PartNumber: 3,
          CopySource: `${BUCKET}/multi/copy-source`,
          CopySourceRange: `bytes=0-${6 * MiB}`,
        }),
      ),
      "InvalidArgument",
      400,
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "multi/copied",
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: second.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    expect(sha256Hex((await getBytes("multi/copied")).bytes)).toBe(sha256Hex(source));
  });

  it("rejects small parts, wrong ETags, bad order, and aborted uploads", async () => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "multi/bad" }),
    );
    const send = (PartNumber: number, Body: Buffer) =>
      client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: "multi/bad", UploadId, PartNumber, Body }),
      );
    const one = await send(1, randomBody(1024));
    const two = await send(2, randomBody(1024));
    const complete = (Parts: Array<{ PartNumber: number; ETag?: string }>) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "multi/bad",
          UploadId,
          MultipartUpload: { Parts },
        }),
      );
    await expectS3Error(
      complete([
        { PartNumber: 1, ETag: one.ETag },
        { PartNumber: 2, ETag: two.ETag },
      ]),
      "EntityTooSmall",
      400,
    );
    await expectS3Error(complete([{ PartNumber: 1, ETag: '"0000"' }]), "InvalidPart", 400);
    await expectS3Error(
      complete([
        { PartNumber: 2, ETag: two.ETag },
        { PartNumber: 1, ETag: one.ETag },
      ]),
      "InvalidPartOrder",
      400,
    );
    await expectS3Error(send(0, randomBody(1)), "InvalidArgument", 400);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "multi/bad", UploadId }),
    );
    await expectS3Error(send(3, randomBody(1)), "NoSuchUpload", 404);
    await expectS3Error(
      client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "multi/bad", UploadId })),
      "NoSuchUpload",
      404,
    );
    await expectS3Error(getBytes("multi/bad"), "NoSuchKey", 404);
  });
});

describe("presigned URLs", () => {
  it("accepts a presigned PUT and a presigned GET", async () => {
    const body = randomBody(10_000);
    const putUrl = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: BUCKET, Key: "presigned/a b+c" }),
      {
        expiresIn: 300,
      },
    );
    const putResponse = await fetch(putUrl, { method: "PUT", body });
    expect(putResponse.status).toBe(200);
    expect(putResponse.headers.get("etag")).toBe(`"${md5Hex(body)}"`);
    const getUrl = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/a b+c" }),
      {
        expiresIn: 300,
      },
    );
    const getResponse = await fetch(getUrl);
    expect(getResponse.status).toBe(200);
    expect(sha256Hex(Buffer.from(await getResponse.arrayBuffer()))).toBe(sha256Hex(body));
  });

  it("rejects an expired or tampered presigned URL", async () => {
    await put("presigned/old", "x");
    const expired = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/old" }),
      {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 10 * 60 * 1000),
      },
    );
    const expiredResponse = await fetch(expired);
    expect(expiredResponse.status).toBe(403);
    expect(errorFields(Buffer.from(await expiredResponse.arrayBuffer())).Code).toBe("AccessDenied");

    const valid = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/old" }),
      {
        expiresIn: 60,
      },
    );
    const tampered = valid.replace("presigned/old", "presigned/other");
    const tamperedResponse = await fetch(tampered);
    expect(tamperedResponse.status).toBe(403);
    expect(errorFields(Buffer.from(await tamperedResponse.arrayBuffer())).Code).toBe(
      "SignatureDoesNotMatch",
    );
  });
});

describe("authentication and errors", () => {
  it("answers a wrong secret with SignatureDoesNotMatch and an unknown key with InvalidAccessKeyId", async () => {
    const wrongSecret = makeClient(server.url, {
      credentials: { accessKeyId: CREDENTIALS[0]!.accessKeyId, secretAccessKey: "not-the-secret" },
    });
    const unknownKey = makeClient(server.url, {
      credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "whatever" },
    });
    try {
      await expectS3Error(
        wrongSecret.send(new ListBucketsCommand({})),
        "SignatureDoesNotMatch",
        403,
      );
      await expectS3Error(
        wrongSecret.send(new PutObjectCommand({ Bucket: BUCKET, Key: "forged", Body: "x" })),
        "SignatureDoesNotMatch",
        403,
      );
      await expectS3Error(unknownKey.send(new ListBucketsCommand({})), "InvalidAccessKeyId", 403);
      await expectS3Error(getBytes("forged"), "NoSuchKey", 404);
    } finally {
      wrongSecret.destroy();
      unknownKey.destroy();
    }
  });

  it("refuses a signature scoped to another region", async () => {
    const elsewhere = makeClient(server.url, { region: "eu-central-1" });
    try {
      await expectS3Error(
        elsewhere.send(new ListBucketsCommand({})),
        "AuthorizationHeaderMalformed",
        400,
      );
    } finally {
      elsewhere.destroy();
    }
  });

  it("answers anonymous requests with AccessDenied as an S3 error document", async () => {
    const response = await fetch(`${server.url}/${BUCKET}/meta/object.bin`);
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/xml");
    const fields = errorFields(Buffer.from(await response.arrayBuffer()));
    expect(fields.Code).toBe("AccessDenied");
    expect(fields.Message).not.toBe("");
    expect(fields.RequestId).toBe(response.headers.get("x-amz-request-id"));
    const head = await fetch(`${server.url}/${BUCKET}/meta/object.bin`, { method: "HEAD" });
    expect(head.status).toBe(403);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers operations it does not implement with NotImplemented", async () => {
    await put("acl-target", "x");
    await expectS3Error(
      client.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: "acl-target" })),
      "NotImplemented",
      501,
    );
  });

  it("rejects a body that does not match its signed x-amz-content-sha256 and stores nothing", async () => {
    const path = `/${BUCKET}/sha-mismatch`;
    const signed = signRaw(server.url, {
      method: "PUT",
      path,
      headers: [["content-length", "5"]],
      payloadHash: sha256Hex("hello"),
    });
    const response = await sendRaw(server.url, {
      method: "PUT",
      path,
      headers: signed.headers,
      body: [Buffer.from("jello")],
    });
    expect(response.status).toBe(400);
    expect(errorFields(response.body).Code).toBe("XAmzContentSHA256Mismatch");
    await expectS3Error(getBytes("sha-mismatch"), "NoSuchKey", 404);
  });

  it("asks for the body of an Expect: 100-continue upload only once the request is accepted", async () => {
    const body = randomBody(50_000);
    const request = (key: string, secretAccessKey?: string) => {
      const path = `/${BUCKET}/${key}`;
      const signed = signRaw(server.url, {
        method: "PUT",
        path,
        headers: [["content-length", String(body.length)]],
        payloadHash: sha256Hex(body),
        ...(secretAccessKey != null ? { secretAccessKey } : {}),
      });
      return sendRaw(server.url, {
        method: "PUT",
        path,
        headers: signed.headers,
        body: [body],
        expectContinue: true,
      });
    };
    const refused = await request("continue/refused", "wrong-secret");
    expect({ status: refused.status, continued: refused.continued }).toEqual({
      status: 403,
      continued: false,
    });
    expect(errorFields(refused.body).Code).toBe("SignatureDoesNotMatch");
    const accepted = await request("continue/accepted");
    expect({ status: accepted.status, continued: accepted.continued }).toEqual({
      status: 200,
      continued: true,
    });
    expect(sha256Hex((await getBytes("continue/accepted")).bytes)).toBe(sha256Hex(body));
  });

  it("addresses buckets by virtual host (bucket.localhost)", async () => {
    await put("vhost/key with space", "virtual");
    const host = `${BUCKET}.localhost:${server.port}`;
    const path = "/vhost/key%20with%20space";
    const signed = signRaw(server.url, { method: "GET", path, host, payloadHash: sha256Hex("") });
    const response = await sendRaw(server.url, { method: "GET", path, headers: signed.headers });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe("virtual");
  });

  it("reports every request to onRequest and counts them", async () => {
    const before = server.requests;
    events.length = 0;
    await put("events/one", "1");
    await expectS3Error(getBytes("events/none"), "NoSuchKey", 404);
    expect(server.requests).toBe(before + 2);
    expect(events.map((event) => [event.operation, event.status, event.accessKeyId])).toEqual([
      ["PutObject", 200, CREDENTIALS[0]!.accessKeyId],
      ["GetObject", 404, CREDENTIALS[0]!.accessKeyId],
    ]);
    expect(events[1]).toMatchObject({ bucket: BUCKET, key: "events/none", errorCode: "NoSuchKey" });
  });
});
