import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsCliProfile, runAws, type AwsCliProfile } from "./support/aws-cli.ts";
import type { S3KeyPair } from "./support/ceph.ts";
import {
  createAwsCliDriver,
  createBoto3Driver,
  createSdkDriver,
  s3ErrorCodeOf,
  type ClientName,
  type S3ClientDriver,
} from "./support/drivers.ts";
import {
  makeTempDir,
  sha256File,
  sha256Hex,
  sha256Stream,
  writeRandomFile,
} from "./support/files.ts";
import { cellTest, type BackendWatch } from "./support/harness.ts";
import type { MatrixRecorder } from "./support/matrix.ts";

/** Keys that broke proxies before: encodings, reserved characters, unicode, empty path segments. */
export const SPECIAL_KEYS = [
  "with space/file name.txt",
  "plus+sign+key.txt",
  "percent/100%.txt",
  "percent/%2Fnot-a-slash%20.txt",
  "equals=sign==.txt",
  "colon:key:v1.txt",
  "unicode/Grüße-日本語-😀.txt",
  "double//slash.txt",
  "mixed a+b=c:d%e ü.txt",
] as const;

/** What a backend file hands the suite once OSP runs in front of that backend. */
export interface SuiteTarget {
  /** OSP's HTTP listener, e.g. http://127.0.0.1:PORT */
  ospEndpoint: string;
  /** The client key pair OSP knows (hmacKeystore). */
  clientKey: S3KeyPair;
  /** A key pair OSP knows but its validator refuses for every bucket. */
  deniedClientKey: S3KeyPair;
  /** Bucket whose backend credentials are a static HMAC pair in cosMap. */
  staticBucket: string;
  /** Bucket whose backend credentials come from bucketCredsFetcher (JSON). */
  fetchedBucket: string;
  /** A client straight to the backend with the static bucket owner's key: setup and independent checks. */
  backendDirect: S3Client;
  /** How many times OSP called bucketCredsFetcher so far. */
  fetcherCalls(): number;
  /** Access key ids the backend saw signing requests for a bucket, when the backend can tell. */
  backendKeysSeen?(bucket: string): ReadonlySet<string>;
  /** The backend key OSP should sign a bucket's requests with. */
  backendKeyOf?(bucket: string): string;
}

/** Options of {@link defineClientSuite}. */
export interface ClientSuiteOptions {
  /** Column label of the backend, e.g. "Ceph RGW". */
  backendLabel: string;
  matrix: MatrixRecorder;
  target: () => SuiteTarget;
  watch?: () => BackendWatch | undefined;
  /** Keys whose UploadPartCopy the backend cannot take (Ceph RGW 16 aborts on a raw `%`), with the reason. */
  uploadPartCopyUnsupported?: { keys: (key: string) => boolean; reason: string };
  /** Whether the backend checks x-amz-checksum-* values (AWS S3 and local-s3 do; Ceph RGW 16 ignores them). */
  backendVerifiesChecksums: boolean;
  /** The 100 MiB `aws s3 cp` case (aws-cli column only). */
  largeUploadBytes?: number;
}

const SMALL_BYTES = 64 * 1024 + 123;
const STREAM_BYTES = 300 * 1024 + 7;
const MULTIPART_BYTES = 12 * 1024 * 1024 + 5;
const CLIENTS: readonly ClientName[] = ["SDK", "aws-cli", "boto3"];

/** Deletes every object of a bucket through a direct backend client (cleanup, not under test). */
export async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length > 0)
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token != null);
}

/** SHA-256 of an object read straight from the backend: an independent check of what OSP stored. */
async function backendSha256(client: S3Client, bucket: string, key: string): Promise<string> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha256Stream(object.Body as Readable);
}

/**
 * Runs `task` over the entries with at most `limit` in flight. The aws-cli spends most of a call
 * starting Python, so a few calls side by side shorten the per-key rows without changing a request.
 */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const KEY_CONCURRENCY = 3;

/** How many objects the backend itself holds in a bucket. */
async function countObjects(client: S3Client, bucket: string): Promise<number> {
  let token: string | undefined;
  let count = 0;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    count += (page.Contents ?? []).length;
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token != null);
  return count;
}

/**
 * Registers the whole client × operation suite for one backend: the same cases for the SDK,
 * aws-cli and boto3, every one through OSP, every downloaded body compared by SHA-256.
 */
export function defineClientSuite(options: ClientSuiteOptions): void {
  const { matrix, backendLabel } = options;
  let workDir: { path: string; remove(): Promise<void> };
  const files = { small: "", stream: "", multipart: "" };
  const hashes = { small: "", stream: "", multipart: "" };

  beforeAll(async () => {
    workDir = await makeTempDir("osp-e2e-files");
    files.small = join(workDir.path, "small.bin");
    files.stream = join(workDir.path, "stream.bin");
    files.multipart = join(workDir.path, "multipart.bin");
    hashes.small = await writeRandomFile(files.small, SMALL_BYTES);
    hashes.stream = await writeRandomFile(files.stream, STREAM_BYTES);
    hashes.multipart = await writeRandomFile(files.multipart, MULTIPART_BYTES);
  });
  afterAll(async () => {
    await workDir?.remove();
  });

  for (const clientName of CLIENTS) {
    describe(`${clientName} → OSP → ${backendLabel}`, () => {
      const column = `${clientName} · ${backendLabel}`;
      const prefix = `${clientName.toLowerCase()}/`;
      let driver: S3ClientDriver;
      const drivers: S3ClientDriver[] = [];
      let cliProfile: AwsCliProfile | undefined;
      let clientDir: { path: string; remove(): Promise<void> };
      let t: SuiteTarget;
      const out = (name: string) => join(clientDir.path, name);
      const cell = (row: string, body: () => Promise<void>) =>
        cellTest(matrix, row, column, body, options.watch);

      const makeDriver = async (key: S3KeyPair, dirName: string): Promise<S3ClientDriver> => {
        const target = { endpoint: t.ospEndpoint, ...key };
        let made: S3ClientDriver;
        if (clientName === "SDK") made = createSdkDriver(target);
        else if (clientName === "boto3") made = createBoto3Driver(target);
        else {
          const dir = join(clientDir.path, dirName);
          await mkdir(dir, { recursive: true });
          const profile = await createAwsCliProfile({ dir, endpointUrl: t.ospEndpoint, ...key });
          if (dirName === "aws") cliProfile = profile;
          made = createAwsCliDriver(profile);
        }
        drivers.push(made);
        return made;
      };

      beforeAll(async () => {
        t = options.target();
        clientDir = await makeTempDir(`osp-e2e-${clientName}`);
        driver = await makeDriver(t.clientKey, "aws");
      });
      afterAll(async () => {
        await Promise.all(drivers.map((d) => d.close()));
        await clientDir?.remove();
      });

      cell("ListBuckets (answered by OSP from cosMap ∩ validator)", async () => {
        const names = await driver.listBuckets();
        expect(names).toContain(t.staticBucket);
        expect(names).toContain(t.fetchedBucket);
      });

      cell(
        "PutObject, in-memory body (SDK Buffer · s3api put-object · put_object) + GET SHA-256",
        async () => {
          const key = `${prefix}small.bin`;
          await driver.putObject(t.staticBucket, key, files.small);
          await driver.getObject(t.staticBucket, key, out("small.get"));
          expect(await sha256File(out("small.get"))).toBe(hashes.small);
        },
      );

      cell(
        "PutObject, stream/file body (SDK fs stream: aws-chunked + CRC trailer · s3 cp · upload_file) + GET",
        async () => {
          const key = `${prefix}stream.bin`;
          await driver.uploadFile(t.staticBucket, key, files.stream);
          await driver.getObject(t.staticBucket, key, out("stream.get"));
          expect(await sha256File(out("stream.get"))).toBe(hashes.stream);
        },
      );

      cell("HeadObject", async () => {
        const key = `${prefix}head.bin`;
        await t.backendDirect.send(
          new PutObjectCommand({
            Bucket: t.staticBucket,
            Key: key,
            Body: await readFile(files.small),
          }),
        );
        const head = await driver.headObject(t.staticBucket, key);
        expect(head.contentLength).toBe(SMALL_BYTES);
        expect(head.etag).toMatch(/^"[0-9a-f]{32}"$/);
      });

      cell("GetObject with Range", async () => {
        const key = `${prefix}range.bin`;
        await t.backendDirect.send(
          new PutObjectCommand({
            Bucket: t.staticBucket,
            Key: key,
            Body: await readFile(files.small),
          }),
        );
        const info = await driver.getObject(
          t.staticBucket,
          key,
          out("range.get"),
          "bytes=1000-4999",
        );
        const expected = (await readFile(files.small)).subarray(1000, 5000);
        const body = await readFile(out("range.get"));
        expect(body.length).toBe(4000);
        expect(sha256Hex(body)).toBe(sha256Hex(expected));
        expect(info.contentRange).toBe(`bytes 1000-4999/${SMALL_BYTES}`);
      });

      cell(
        "ListObjectsV2 with prefix, delimiter and pagination (max-keys 2, 3 pages)",
        async () => {
          const listPrefix = `${prefix}list/`;
          const expected = ["a.txt", "b.txt", "c.txt", "d.txt", "sub/e.txt"].map(
            (name) => `${listPrefix}${name}`,
          );
          // Same-prefix neighbours that must NOT be listed under `list/`.
          const decoys = [`${prefix}list-other/x.txt`, `${prefix}listx.txt`];
          for (const key of [...expected, ...decoys]) {
            await t.backendDirect.send(
              new PutObjectCommand({ Bucket: t.staticBucket, Key: key, Body: key }),
            );
          }
          const pages = await driver.listObjectsV2(t.staticBucket, {
            prefix: listPrefix,
            maxKeys: 2,
          });
          expect(pages.length).toBe(3);
          expect(
            pages.slice(0, -1).every((page) => page.isTruncated && page.keys.length === 2),
          ).toBe(true);
          expect(pages.flatMap((page) => page.keys)).toEqual(expected);
          const delimited = await driver.listObjectsV2(t.staticBucket, {
            prefix: listPrefix,
            delimiter: "/",
          });
          expect(delimited.flatMap((page) => page.keys)).toEqual(expected.slice(0, 4));
          expect(delimited.flatMap((page) => page.commonPrefixes)).toEqual([`${listPrefix}sub/`]);
        },
      );

      cell("DeleteObject (then HEAD is 404)", async () => {
        const key = `${prefix}delete-me.txt`;
        await t.backendDirect.send(
          new PutObjectCommand({ Bucket: t.staticBucket, Key: key, Body: "bye" }),
        );
        await driver.deleteObject(t.staticBucket, key);
        const error = await driver.headObject(t.staticBucket, key).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(s3ErrorCodeOf(error)).toBe("404");
      });

      cell("CopyObject (+ GET SHA-256 of the copy)", async () => {
        const source = `${prefix}copy-source.bin`;
        await t.backendDirect.send(
          new PutObjectCommand({
            Bucket: t.staticBucket,
            Key: source,
            Body: await readFile(files.small),
          }),
        );
        await driver.copyObject(t.staticBucket, `${prefix}copy-target.bin`, t.staticBucket, source);
        await driver.getObject(t.staticBucket, `${prefix}copy-target.bin`, out("copy.get"));
        expect(await sha256File(out("copy.get"))).toBe(hashes.small);
      });

      cell("User metadata + Content-Type round trip (HEAD and GET)", async () => {
        const key = `${prefix}meta.txt`;
        const metadata = { color: "blue", "owner-id": "e2e-42" };
        await driver.putObject(t.staticBucket, key, files.small, {
          contentType: "text/x-osp-e2e",
          metadata,
        });
        const head = await driver.headObject(t.staticBucket, key);
        expect(head.contentType).toBe("text/x-osp-e2e");
        expect(head.metadata).toEqual(metadata);
        const got = await driver.getObject(t.staticBucket, key, out("meta.get"));
        expect(got.contentType).toBe("text/x-osp-e2e");
        expect(got.metadata).toEqual(metadata);
        expect(await sha256File(out("meta.get"))).toBe(hashes.small);
      });

      cell("Presigned GET (client key, OSP endpoint) + tampered signature is 403", async () => {
        const key = `${prefix}presigned-get.bin`;
        await t.backendDirect.send(
          new PutObjectCommand({
            Bucket: t.staticBucket,
            Key: key,
            Body: await readFile(files.small),
          }),
        );
        const url = await driver.presignGet(t.staticBucket, key);
        expect(url.startsWith(t.ospEndpoint)).toBe(true);
        const response = await fetch(url);
        expect(response.status).toBe(200);
        expect(sha256Hex(new Uint8Array(await response.arrayBuffer()))).toBe(hashes.small);
        const tampered = new URL(url);
        const signature = tampered.searchParams.get("X-Amz-Signature")!;
        tampered.searchParams.set(
          "X-Amz-Signature",
          `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`,
        );
        const rejected = await fetch(tampered);
        expect(rejected.status).toBe(403);
        expect(await rejected.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
      });

      if (clientName === "boto3") {
        cell(
          "Presigned GET at boto3 1.26's default (SigV2 query auth): refused with S3 XML, never served",
          async () => {
            const key = `${prefix}presigned-get.bin`;
            const boto3 = driver as ReturnType<typeof createBoto3Driver>;
            const url = await boto3.presignGetDefaultSignature(t.staticBucket, key);
            expect(new URL(url).searchParams.has("Signature")).toBe(true); // the SigV2 form
            const response = await fetch(url);
            const body = await response.text();
            expect([400, 403]).toContain(response.status);
            expect(body).toMatch(/<Code>[A-Za-z]+<\/Code>/);
            expect(body).toMatch(/<Message>[^<]+<\/Message>/);
          },
        );
      }

      if (clientName !== "aws-cli") {
        cell("Presigned PUT (client key, OSP endpoint) + GET SHA-256", async () => {
          const key = `${prefix}presigned-put.bin`;
          const url = await driver.presignPut(t.staticBucket, key);
          expect(url).toBeDefined();
          const response = await fetch(url!, { method: "PUT", body: await readFile(files.small) });
          expect(response.status, await response.clone().text()).toBe(200);
          await driver.getObject(t.staticBucket, key, out("presigned-put.get"));
          expect(await sha256File(out("presigned-put.get"))).toBe(hashes.small);
        });
      }

      if (clientName === "SDK") {
        cell(
          "Presigned PUT at the SDK's default (CRC32 of the empty body signed in): the backend's verdict passes through",
          async () => {
            const key = `${prefix}presigned-put-default.bin`;
            const sdk = driver as ReturnType<typeof createSdkDriver>;
            const url = await sdk.presignPutDefaultChecksum(t.staticBucket, key);
            expect(new URL(url).searchParams.get("x-amz-checksum-crc32")).toBe("AAAAAA==");
            const response = await fetch(url, { method: "PUT", body: await readFile(files.small) });
            const body = await response.text();
            if (options.backendVerifiesChecksums) {
              // As on AWS S3: the signed checksum does not match the body, nothing is stored.
              expect(response.status, body).toBe(400);
              expect(body).toContain("<Code>BadDigest</Code>");
              const error = await driver.headObject(t.staticBucket, key).then(
                () => undefined,
                (e: unknown) => e,
              );
              expect(s3ErrorCodeOf(error)).toBe("404");
            } else {
              expect(response.status, body).toBe(200);
              expect(await backendSha256(t.backendDirect, t.staticBucket, key)).toBe(hashes.small);
            }
          },
        );
      }

      cell("Keys with space + % = : unicode // — PUT, HEAD, GET, LIST, DELETE", async () => {
        const keyPrefix = `${prefix}keys/`;
        await forEachLimited(SPECIAL_KEYS, KEY_CONCURRENCY, async (name, index) => {
          const file = out(`key-${index}.txt`);
          await writeFile(file, `object number ${index}: ${name}\n`);
          await driver.putObject(t.staticBucket, `${keyPrefix}${name}`, file);
        });
        await forEachLimited(SPECIAL_KEYS, KEY_CONCURRENCY, async (name, index) => {
          const key = `${keyPrefix}${name}`;
          const expected = `object number ${index}: ${name}\n`;
          const head = await driver.headObject(t.staticBucket, key);
          expect(head.contentLength, key).toBe(Buffer.byteLength(expected));
          await driver.getObject(t.staticBucket, key, out(`key-${index}.get`));
          expect(sha256Hex(await readFile(out(`key-${index}.get`))), key).toBe(sha256Hex(expected));
        });
        const listed = (await driver.listObjectsV2(t.staticBucket, { prefix: keyPrefix })).flatMap(
          (page) => page.keys,
        );
        expect([...listed].sort()).toEqual(
          SPECIAL_KEYS.map((name) => `${keyPrefix}${name}`).sort(),
        );
        // The backend's own listing agrees: OSP stored each object under exactly the client's key.
        const direct = await t.backendDirect.send(
          new ListObjectsV2Command({ Bucket: t.staticBucket, Prefix: keyPrefix }),
        );
        expect((direct.Contents ?? []).map((o) => o.Key).sort()).toEqual([...listed].sort());
      });

      cell("CopyObject with special keys (source and target)", async () => {
        const keyPrefix = `${prefix}keys/`;
        await forEachLimited(SPECIAL_KEYS, KEY_CONCURRENCY, async (name, index) => {
          const target = `${prefix}copied/${name}`;
          await driver.copyObject(t.staticBucket, target, t.staticBucket, `${keyPrefix}${name}`);
          // Read back from the backend directly (the client's GET of these keys is the row above).
          expect(await backendSha256(t.backendDirect, t.staticBucket, target), target).toBe(
            sha256Hex(`object number ${index}: ${name}\n`),
          );
        });
      });

      cell("UploadPartCopy with special keys", async () => {
        const keyPrefix = `${prefix}keys/`;
        const unsupported = options.uploadPartCopyUnsupported;
        await forEachLimited(SPECIAL_KEYS, KEY_CONCURRENCY, async (name, index) => {
          if (unsupported?.keys(name) === true) return;
          const target = `${prefix}part-copied/${name}`;
          await driver.uploadPartCopy(
            t.staticBucket,
            target,
            t.staticBucket,
            `${keyPrefix}${name}`,
          );
          expect(await backendSha256(t.backendDirect, t.staticBucket, target), target).toBe(
            sha256Hex(`object number ${index}: ${name}\n`),
          );
        });
        if (unsupported != null) matrix.note(unsupported.reason);
      });
      if (options.uploadPartCopyUnsupported != null) {
        const skipped = SPECIAL_KEYS.filter((name) =>
          options.uploadPartCopyUnsupported!.keys(name),
        );
        it.skip(`UploadPartCopy of ${skipped.join(", ")} [${column}]: ${options.uploadPartCopyUnsupported.reason}`, () => {});
      }

      cell("DeleteObject with special keys (then the prefix lists empty)", async () => {
        const keyPrefix = `${prefix}keys/`;
        await forEachLimited(SPECIAL_KEYS, KEY_CONCURRENCY, (name) =>
          driver.deleteObject(t.staticBucket, `${keyPrefix}${name}`),
        );
        const listed = (await driver.listObjectsV2(t.staticBucket, { prefix: keyPrefix })).flatMap(
          (page) => page.keys,
        );
        expect(listed).toEqual([]);
      });

      cell(
        "Multipart upload 12 MiB (SDK parts · s3 cp · upload_file) + download SHA-256",
        async () => {
          const key = `${prefix}multipart.bin`;
          await driver.multipartUpload(t.staticBucket, key, files.multipart);
          const head = await driver.headObject(t.staticBucket, key);
          expect(head.contentLength).toBe(MULTIPART_BYTES);
          expect(head.etag).toMatch(/-\d+"$/); // a multipart ETag: "<md5 of part md5s>-<parts>"
          await driver.downloadFile(t.staticBucket, key, out("multipart.get"));
          expect(await sha256File(out("multipart.get"))).toBe(hashes.multipart);
        },
      );

      if (clientName === "aws-cli" && options.largeUploadBytes != null) {
        const largeBytes = options.largeUploadBytes;
        cell(
          `Multipart upload ${largeBytes / 1024 / 1024} MiB with \`aws s3 cp\` + download SHA-256`,
          async () => {
            const file = out("large.bin");
            const hash = await writeRandomFile(file, largeBytes);
            const key = `${prefix}large.bin`;
            await driver.multipartUpload(t.staticBucket, key, file);
            await driver.downloadFile(t.staticBucket, key, out("large.get"));
            expect((await stat(out("large.get"))).size).toBe(largeBytes);
            expect(await sha256File(out("large.get"))).toBe(hash);
            // Keep the backend's memory (Ceph memstore) small: the large object has served its purpose.
            await driver.deleteObject(t.staticBucket, key);
          },
        );
      }

      if (clientName === "aws-cli") {
        cell(
          "Seed example: `aws s3 ls s3://<bucket>/ --recursive --summarize --human-readable`",
          async () => {
            const { stdout } = await runAws(cliProfile!, [
              "s3",
              "ls",
              `s3://${t.staticBucket}/`,
              "--recursive",
              "--summarize",
              "--human-readable",
            ]);
            const count = await countObjects(t.backendDirect, t.staticBucket);
            expect(count).toBeGreaterThan(0);
            expect(stdout).toMatch(new RegExp(`^Total Objects: ${count}$`, "m"));
            expect(stdout).toMatch(/^\s*Total Size: .+$/m);
            expect(stdout).toContain(`${prefix}small.bin`);
            expect(stdout).toContain(`${prefix}multipart.bin`);
          },
        );
      }

      cell("bucketCredsFetcher bucket (JSON key pair): PUT, HEAD, GET, LIST, DELETE", async () => {
        const callsBefore = t.fetcherCalls();
        const key = `${prefix}fetched/small.bin`;
        await driver.putObject(t.fetchedBucket, key, files.small);
        expect((await driver.headObject(t.fetchedBucket, key)).contentLength).toBe(SMALL_BYTES);
        await driver.getObject(t.fetchedBucket, key, out("fetched.get"));
        expect(await sha256File(out("fetched.get"))).toBe(hashes.small);
        const listed = await driver.listObjectsV2(t.fetchedBucket, { prefix: `${prefix}fetched/` });
        expect(listed.flatMap((page) => page.keys)).toEqual([key]);
        await driver.deleteObject(t.fetchedBucket, key);
        // The fetcher was consulted (then cached per access key + bucket for the bucket's TTL)…
        expect(t.fetcherCalls()).toBeGreaterThanOrEqual(1);
        expect(t.fetcherCalls() - callsBefore).toBeLessThanOrEqual(1);
        // …and, where the backend can tell, only the fetched key pair signed for that bucket.
        if (t.backendKeysSeen != null && t.backendKeyOf != null) {
          expect([...t.backendKeysSeen(t.fetchedBucket)]).toEqual([
            t.backendKeyOf(t.fetchedBucket),
          ]);
        }
      });

      cell("Rejects a wrong client secret (403 SignatureDoesNotMatch)", async () => {
        const wrong = await makeDriver(
          {
            accessKeyId: t.clientKey.accessKeyId,
            secretAccessKey: `${t.clientKey.secretAccessKey.slice(0, -2)}xx`,
          },
          "aws-wrong",
        );
        const error = await wrong.listObjectsV2(t.staticBucket, { prefix }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(s3ErrorCodeOf(error)).toBe("SignatureDoesNotMatch");
      });

      cell("Validator denial → 403 AccessDenied", async () => {
        const denied = await makeDriver(t.deniedClientKey, "aws-denied");
        const error = await denied
          .getObject(t.staticBucket, `${prefix}small.bin`, out("denied.get"))
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(s3ErrorCodeOf(error)).toBe("AccessDenied");
      });
    });
  }
}
