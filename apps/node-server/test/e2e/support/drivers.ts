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
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  AbortMultipartUploadCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createReadStream, createWriteStream } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { Agent as HttpsAgent } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { runAws, runAwsJson, type AwsCliProfile, type RunAwsOptions } from "./aws-cli.ts";
import { Boto3ServiceError, openBoto3Session, type Boto3ClientSpec } from "./boto3.ts";
import { CommandError } from "./process.ts";

/** The three clients the lane drives, unmodified and at their defaults. */
export type ClientName = "SDK" | "aws-cli" | "boto3";

/** Object facts as a client reports them after HEAD or GET. */
export interface ObjectInfo {
  contentLength?: number;
  contentType?: string;
  contentRange?: string;
  etag?: string;
  metadata: Record<string, string>;
}

/** One page of ListObjectsV2. */
export interface ListPage {
  keys: string[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

/** Options of {@link S3ClientDriver.putObject}. */
export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
}

/**
 * The operations the lane runs, implemented once per client with that client's own API
 * (the SDK's commands, `aws s3api`/`aws s3`, boto3), so every test reads the same for all three.
 */
export interface S3ClientDriver {
  readonly name: ClientName;
  listBuckets(): Promise<string[]>;
  /** The client's in-memory upload: SDK Buffer body, `s3api put-object --body`, boto3 put_object(bytes). */
  putObject(bucket: string, key: string, file: string, options?: PutOptions): Promise<void>;
  /** The client's file/stream upload: SDK fs stream body (aws-chunked with a CRC trailer), `aws s3 cp`, boto3 upload_file. */
  uploadFile(bucket: string, key: string, file: string): Promise<void>;
  /** A multipart upload: SDK parts of 5 MiB by hand, `aws s3 cp` (8 MiB threshold), boto3 upload_file (5 MiB threshold). */
  multipartUpload(bucket: string, key: string, file: string): Promise<void>;
  /** GET into `outFile`. */
  getObject(bucket: string, key: string, outFile: string, range?: string): Promise<ObjectInfo>;
  /** The client's download path: SDK GetObject piped to a file, `aws s3 cp`, boto3 download_file. */
  downloadFile(bucket: string, key: string, outFile: string): Promise<void>;
  headObject(bucket: string, key: string): Promise<ObjectInfo>;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Follows continuation tokens page by page. */
  listObjectsV2(
    bucket: string,
    options: { prefix?: string; maxKeys?: number; delimiter?: string },
  ): Promise<ListPage[]>;
  copyObject(
    bucket: string,
    key: string,
    sourceBucket: string,
    sourceKey: string,
    metadata?: Record<string, string>,
  ): Promise<void>;
  /** A one-part multipart upload whose part is an UploadPartCopy of the source. */
  uploadPartCopy(
    bucket: string,
    key: string,
    sourceBucket: string,
    sourceKey: string,
  ): Promise<void>;
  presignGet(bucket: string, key: string): Promise<string>;
  /** Undefined when the client has no way to presign a PUT (aws-cli). */
  presignPut(bucket: string, key: string): Promise<string | undefined>;
  /** Releases what the driver holds (sockets, a child process). */
  close(): Promise<void>;
}

/** The S3 error code (or HTTP status for bodiless HEAD errors) a client reported, if it did. */
export function s3ErrorCodeOf(error: unknown): string | undefined {
  if (error instanceof Boto3ServiceError) return error.code;
  if (error instanceof CommandError) {
    return /An error occurred \(([^)]+)\)/.exec(error.result.stderr)?.[1];
  }
  if (error != null && typeof error === "object" && "name" in error) {
    const named = error as { name: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    if (named.name === "NotFound" || named.name === "Unknown")
      return String(named.$metadata?.httpStatusCode ?? named.name);
    return named.Code ?? named.name;
  }
  return undefined;
}

/** Connection facts every driver needs. */
export interface DriverTarget {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  /** PEM CA to trust for an https endpoint. */
  caPem?: string;
}

const PART_BYTES = 5 * 1024 * 1024;
const lowerKeys = (record: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(record ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** @aws-sdk/client-s3 at its defaults, with path-style addressing (the seed's setup). */
export function createSdkDriver(target: DriverTarget): S3ClientDriver & {
  client: S3Client;
  presignPutDefaultChecksum(bucket: string, key: string): Promise<string>;
} {
  const settings = {
    endpoint: target.endpoint,
    region: target.region ?? "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    ...(target.caPem != null
      ? { requestHandler: { httpsAgent: new HttpsAgent({ ca: target.caPem }) } }
      : {}),
  };
  const client = new S3Client(settings);
  // At its default (WHEN_SUPPORTED) the SDK signs the CRC32 of the empty body into a presigned
  // PutObject URL, which S3 then refuses for any real body; AWS documents WHEN_REQUIRED for presigning.
  const presignClient = new S3Client({ ...settings, requestChecksumCalculation: "WHEN_REQUIRED" });
  return {
    name: "SDK",
    client,
    async listBuckets() {
      const out = await client.send(new ListBucketsCommand({}));
      return (out.Buckets ?? []).map((b) => b.Name ?? "");
    },
    async putObject(bucket, key, file, options = {}) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: await readFile(file),
          ContentType: options.contentType,
          Metadata: options.metadata,
        }),
      );
    },
    async uploadFile(bucket, key, file) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file) }),
      );
    },
    async multipartUpload(bucket, key, file) {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
      );
      const handle = await open(file, "r");
      try {
        const { size } = await handle.stat();
        const parts: { PartNumber: number; ETag?: string }[] = [];
        for (let offset = 0, partNumber = 1; offset < size; offset += PART_BYTES, partNumber += 1) {
          const body = Buffer.alloc(Math.min(PART_BYTES, size - offset));
          await handle.read(body, 0, body.length, offset);
          const part = await client.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId,
              PartNumber: partNumber,
              Body: body,
            }),
          );
          parts.push({ PartNumber: partNumber, ETag: part.ETag });
        }
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      } catch (error) {
        await client
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
          .catch(() => {});
        throw error;
      } finally {
        await handle.close();
      }
    },
    async getObject(bucket, key, outFile, range) {
      const out = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }),
      );
      await pipeline(out.Body as Readable, createWriteStream(outFile));
      return {
        contentLength: out.ContentLength,
        contentType: out.ContentType,
        contentRange: out.ContentRange,
        etag: out.ETag,
        metadata: lowerKeys(out.Metadata),
      };
    },
    async downloadFile(bucket, key, outFile) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      await pipeline(out.Body as Readable, createWriteStream(outFile));
    },
    async headObject(bucket, key) {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        contentLength: out.ContentLength,
        contentType: out.ContentType,
        etag: out.ETag,
        metadata: lowerKeys(out.Metadata),
      };
    },
    async deleteObject(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async listObjectsV2(bucket, options) {
      const pages: ListPage[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: options.prefix,
            MaxKeys: options.maxKeys,
            Delimiter: options.delimiter,
            ContinuationToken: token,
          }),
        );
        pages.push({
          keys: (out.Contents ?? []).map((o) => o.Key ?? ""),
          commonPrefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? ""),
          isTruncated: out.IsTruncated === true,
        });
        token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
      } while (token != null);
      return pages;
    },
    async copyObject(bucket, key, sourceBucket, sourceKey, metadata) {
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          // The SDK sends CopySource as given: the caller URL-encodes the key (as AWS documents).
          CopySource: `${sourceBucket}/${encodeS3Key(sourceKey)}`,
          ...(metadata != null
            ? { Metadata: metadata, MetadataDirective: "REPLACE" as const }
            : {}),
        }),
      );
    },
    async uploadPartCopy(bucket, key, sourceBucket, sourceKey) {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
      );
      try {
        const part = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: 1,
            CopySource: `${sourceBucket}/${encodeS3Key(sourceKey)}`,
          }),
        );
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] },
          }),
        );
      } catch (error) {
        await client
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
          .catch(() => {});
        throw error;
      }
    },
    presignGet(bucket, key) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: 300,
      });
    },
    presignPut(bucket, key) {
      return getSignedUrl(presignClient, new PutObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: 300,
      });
    },
    presignPutDefaultChecksum(bucket, key) {
      return getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: 300,
      });
    },
    async close() {
      client.destroy();
      presignClient.destroy();
    },
  };
}

/** URL-encodes a key for a copy source, keeping `/` (RFC 3986 unreserved characters stay as they are). */
export function encodeS3Key(key: string): string {
  return key
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join("/");
}

interface CliObjectOutput {
  ContentLength?: number;
  ContentType?: string;
  ContentRange?: string;
  ETag?: string;
  Metadata?: Record<string, string>;
}

const cliInfo = (out: CliObjectOutput): ObjectInfo => ({
  contentLength: out.ContentLength,
  contentType: out.ContentType,
  contentRange: out.ContentRange,
  etag: out.ETag,
  metadata: lowerKeys(out.Metadata),
});

/** aws-cli v2 (`/usr/bin/aws`): `s3api` for single operations, `s3 cp` for transfers. */
export function createAwsCliDriver(
  profile: AwsCliProfile,
  options: RunAwsOptions = {},
): S3ClientDriver {
  const json = <T>(args: string[], timeoutMs?: number) =>
    runAwsJson<T>(profile, args, { ...options, timeoutMs: timeoutMs ?? options.timeoutMs });
  return {
    name: "aws-cli",
    async listBuckets() {
      const out = await json<{ Buckets?: { Name: string }[] }>(["s3api", "list-buckets"]);
      return (out.Buckets ?? []).map((b) => b.Name);
    },
    async putObject(bucket, key, file, putOptions = {}) {
      const args = ["s3api", "put-object", "--bucket", bucket, "--key", key, "--body", file];
      if (putOptions.contentType != null) args.push("--content-type", putOptions.contentType);
      if (putOptions.metadata != null) args.push("--metadata", JSON.stringify(putOptions.metadata));
      await json(args);
    },
    async uploadFile(bucket, key, file) {
      await runAws(
        profile,
        ["s3", "cp", "--only-show-errors", file, `s3://${bucket}/${key}`],
        options,
      );
    },
    async multipartUpload(bucket, key, file) {
      await runAws(profile, ["s3", "cp", "--only-show-errors", file, `s3://${bucket}/${key}`], {
        ...options,
        timeoutMs: 240_000,
      });
    },
    async getObject(bucket, key, outFile, range) {
      const args = ["s3api", "get-object", "--bucket", bucket, "--key", key];
      if (range != null) args.push("--range", range);
      return cliInfo(await json<CliObjectOutput>([...args, outFile]));
    },
    async downloadFile(bucket, key, outFile) {
      await runAws(profile, ["s3", "cp", "--only-show-errors", `s3://${bucket}/${key}`, outFile], {
        ...options,
        timeoutMs: 240_000,
      });
    },
    async headObject(bucket, key) {
      return cliInfo(
        await json<CliObjectOutput>(["s3api", "head-object", "--bucket", bucket, "--key", key]),
      );
    },
    async deleteObject(bucket, key) {
      await json(["s3api", "delete-object", "--bucket", bucket, "--key", key]);
    },
    async listObjectsV2(bucket, listOptions) {
      const pages: ListPage[] = [];
      let token: string | undefined;
      do {
        // --no-paginate: one request per call, so the test sees (and drives) every page itself.
        const args = ["s3api", "list-objects-v2", "--no-paginate", "--bucket", bucket];
        if (listOptions.prefix != null) args.push("--prefix", listOptions.prefix);
        if (listOptions.maxKeys != null) args.push("--max-keys", String(listOptions.maxKeys));
        if (listOptions.delimiter != null) args.push("--delimiter", listOptions.delimiter);
        if (token != null) args.push("--continuation-token", token);
        const out = await json<{
          Contents?: { Key: string }[];
          CommonPrefixes?: { Prefix: string }[];
          IsTruncated?: boolean;
          NextContinuationToken?: string;
        }>(args);
        pages.push({
          keys: (out.Contents ?? []).map((o) => o.Key),
          commonPrefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix),
          isTruncated: out.IsTruncated === true,
        });
        token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
      } while (token != null);
      return pages;
    },
    async copyObject(bucket, key, sourceBucket, sourceKey, metadata) {
      // botocore URL-encodes a string copy source itself.
      const args = [
        "s3api",
        "copy-object",
        "--bucket",
        bucket,
        "--key",
        key,
        "--copy-source",
        `${sourceBucket}/${sourceKey}`,
      ];
      if (metadata != null)
        args.push("--metadata", JSON.stringify(metadata), "--metadata-directive", "REPLACE");
      await json(args);
    },
    async uploadPartCopy(bucket, key, sourceBucket, sourceKey) {
      const { UploadId } = await json<{ UploadId: string }>([
        "s3api",
        "create-multipart-upload",
        "--bucket",
        bucket,
        "--key",
        key,
      ]);
      try {
        const part = await json<{ CopyPartResult: { ETag: string } }>([
          "s3api",
          "upload-part-copy",
          "--bucket",
          bucket,
          "--key",
          key,
          "--upload-id",
          UploadId,
          "--part-number",
          "1",
          "--copy-source",
          `${sourceBucket}/${sourceKey}`,
        ]);
        await json([
          "s3api",
          "complete-multipart-upload",
          "--bucket",
          bucket,
          "--key",
          key,
          "--upload-id",
          UploadId,
          "--multipart-upload",
          JSON.stringify({ Parts: [{ PartNumber: 1, ETag: part.CopyPartResult.ETag }] }),
        ]);
      } catch (error) {
        await json([
          "s3api",
          "abort-multipart-upload",
          "--bucket",
          bucket,
          "--key",
          key,
          "--upload-id",
          UploadId,
        ]).catch(() => {});
        throw error;
      }
    },
    async presignGet(bucket, key) {
      const { stdout } = await runAws(
        profile,
        ["s3", "presign", `s3://${bucket}/${key}`, "--expires-in", "300"],
        options,
      );
      return stdout.trim();
    },
    async presignPut() {
      return undefined;
    },
    async close() {
      // Every call was its own process, already finished.
    },
  };
}

/** boto3 (Debian python3-boto3) through boto3_driver.py: one long-lived process and client per driver. */
export function createBoto3Driver(
  spec: Boto3ClientSpec,
): S3ClientDriver & { presignGetDefaultSignature(bucket: string, key: string): Promise<string> } {
  const session = openBoto3Session(spec);
  const call = <T>(op: string, args: Record<string, unknown>, timeoutMs?: number) =>
    session.call<T>(op, args, timeoutMs);
  const info = (out: Partial<ObjectInfo>): ObjectInfo => ({
    ...out,
    metadata: lowerKeys(out.metadata),
  });
  return {
    name: "boto3",
    async listBuckets() {
      return (await call<{ buckets: string[] }>("list_buckets", {})).buckets;
    },
    async putObject(bucket, key, file, options = {}) {
      await call("put_object", { bucket, key, file, ...options });
    },
    async uploadFile(bucket, key, file) {
      await call("upload_file", { bucket, key, file });
    },
    async multipartUpload(bucket, key, file) {
      await call(
        "upload_file",
        { bucket, key, file, multipartThresholdBytes: PART_BYTES },
        240_000,
      );
    },
    async getObject(bucket, key, outFile, range) {
      return info(
        await call<Partial<ObjectInfo>>("get_object", {
          bucket,
          key,
          out: outFile,
          ...(range != null ? { range } : {}),
        }),
      );
    },
    async downloadFile(bucket, key, outFile) {
      await call("download_file", { bucket, key, out: outFile }, 240_000);
    },
    async headObject(bucket, key) {
      return info(await call<Partial<ObjectInfo>>("head_object", { bucket, key }));
    },
    async deleteObject(bucket, key) {
      await call("delete_object", { bucket, key });
    },
    async listObjectsV2(bucket, options) {
      return (await call<{ pages: ListPage[] }>("list_objects_v2", { bucket, ...options })).pages;
    },
    async copyObject(bucket, key, sourceBucket, sourceKey, metadata) {
      await call("copy_object", {
        bucket,
        key,
        sourceBucket,
        sourceKey,
        ...(metadata != null ? { metadata } : {}),
      });
    },
    async uploadPartCopy(bucket, key, sourceBucket, sourceKey) {
      await call("upload_part_copy", { bucket, key, sourceBucket, sourceKey });
    },
    // botocore 1.29 presigns with SigV2 query auth unless asked for SigV4: the one non-default setting.
    async presignGet(bucket, key) {
      return (
        await call<{ url: string }>("presign", {
          method: "get_object",
          bucket,
          key,
          signatureVersion: "s3v4",
        })
      ).url;
    },
    async presignPut(bucket, key) {
      return (
        await call<{ url: string }>("presign", {
          method: "put_object",
          bucket,
          key,
          signatureVersion: "s3v4",
        })
      ).url;
    },
    async presignGetDefaultSignature(bucket, key) {
      return (await call<{ url: string }>("presign", { method: "get_object", bucket, key })).url;
    },
    close: () => session.close(),
  };
}
