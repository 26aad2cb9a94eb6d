// Directory storage. Layout under the root:
//   tmp/<id>                              bodies being received, JSON being written
//   blobs/<id>                            committed bytes (renamed from tmp/ once verified)
//   buckets/<name>/bucket.json            a bucket
//   buckets/<name>/objects/<sha256>.json  an object record (file named by the SHA-256 of its
//                                         key: keys may hold "/", "..", NUL-free unicode, 1 KiB)
//   uploads/<uploadId>.json               a multipart upload and its parts
// Every file appears by rename, so a crash or an aborted upload leaves either nothing or a
// complete file; blobs no record references are deleted at the next start.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type {
  Blob,
  BlobStore,
  BlobWriter,
  Persistence,
  Snapshot,
  StoredBucket,
  StoredObject,
  StoredUpload,
} from "./types.ts";

const FORMAT_VERSION = 1;

const isMissing = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";

const ignoreMissing = (error: unknown): void => {
  if (!isMissing(error)) throw error;
};

const readJson = async (path: string): Promise<unknown> => {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch {
    // A missing or unreadable record is skipped; its blobs become garbage.
    return undefined;
  }
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value != null && !Array.isArray(value);

const objectFileName = (key: string): string =>
  `${createHash("sha256").update(key, "utf8").digest("hex")}.json`;

const writeAll = async (handle: FileHandle, piece: Uint8Array): Promise<void> => {
  let offset = 0;
  while (offset < piece.byteLength) {
    const { bytesWritten } = await handle.write(piece, offset, piece.byteLength - offset);
    offset += bytesWritten;
  }
};

/** Opens (creating if needed) a storage directory. */
export const openDirectoryPersistence = async (root: string): Promise<Persistence> => {
  const tmpDir = join(root, "tmp");
  const blobDir = join(root, "blobs");
  const bucketDir = join(root, "buckets");
  const uploadDir = join(root, "uploads");
  // Whatever is in tmp/ was never committed.
  await rm(tmpDir, { recursive: true, force: true });
  for (const dir of [tmpDir, blobDir, bucketDir, uploadDir]) await mkdir(dir, { recursive: true });

  const writeJsonAtomically = async (path: string, value: unknown): Promise<void> => {
    const temporary = join(tmpDir, `${randomUUID()}.json`);
    await writeFile(temporary, JSON.stringify({ format: FORMAT_VERSION, ...(value as object) }));
    try {
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => {});
      throw error;
    }
  };

  const blobs: BlobStore = {
    createWriter(): BlobWriter {
      const id = randomUUID();
      const temporary = join(tmpDir, id);
      const handle = open(temporary, "wx");
      // A rejected open is reported by write/finish; this only silences the unhandled copy.
      handle.catch(() => {});
      let sizeBytes = 0;
      let closed = false;
      return {
        async write(piece) {
          if (closed) throw new Error("blob writer is closed");
          await writeAll(await handle, piece);
          sizeBytes += piece.byteLength;
        },
        async finish(): Promise<Blob> {
          if (closed) throw new Error("blob writer is closed");
          closed = true;
          await (await handle).close();
          await rename(temporary, join(blobDir, id));
          return { id, sizeBytes };
        },
        async abort() {
          if (closed) return;
          closed = true;
          await handle.then((file) => file.close()).catch(() => {});
          await unlink(temporary).catch(ignoreMissing);
        },
      };
    },
    async *read(blob, startByte, endByteExclusive) {
      if (endByteExclusive <= startByte) return;
      yield* createReadStream(join(blobDir, blob.id), {
        start: startByte,
        end: endByteExclusive - 1,
        highWaterMark: 256 * 1024,
      }) as AsyncIterable<Buffer>;
    },
    async delete(blob) {
      await unlink(join(blobDir, blob.id)).catch(ignoreMissing);
    },
  };

  const load = async (): Promise<Snapshot> => {
    const snapshot = {
      buckets: [] as StoredBucket[],
      objects: [] as Array<{ bucket: string; object: StoredObject }>,
      uploads: [] as StoredUpload[],
    };
    for (const name of await readdir(bucketDir)) {
      const bucket = await readJson(join(bucketDir, name, "bucket.json"));
      if (!isRecord(bucket) || bucket["name"] !== name || typeof bucket["createdMs"] !== "number") {
        // A bucket deleted half-way (or never fully created): nothing in it is reachable.
        await rm(join(bucketDir, name), { recursive: true, force: true });
        continue;
      }
      snapshot.buckets.push({ name, createdMs: bucket["createdMs"] });
      const objectsDir = join(bucketDir, name, "objects");
      const files = await readdir(objectsDir).catch((error: unknown) => {
        ignoreMissing(error);
        return [];
      });
      for (const file of files) {
        const object = await readJson(join(objectsDir, file));
        if (isRecord(object) && typeof object["key"] === "string" && Array.isArray(object["blobs"]))
          snapshot.objects.push({ bucket: name, object: object as unknown as StoredObject });
      }
    }
    const bucketNames = new Set(snapshot.buckets.map((bucket) => bucket.name));
    for (const file of await readdir(uploadDir)) {
      const upload = await readJson(join(uploadDir, file));
      if (
        isRecord(upload) &&
        typeof upload["uploadId"] === "string" &&
        file === `${upload["uploadId"]}.json` &&
        bucketNames.has(String(upload["bucket"])) &&
        Array.isArray(upload["parts"])
      ) {
        snapshot.uploads.push(upload as unknown as StoredUpload);
      } else {
        await unlink(join(uploadDir, file)).catch(ignoreMissing);
      }
    }
    return snapshot;
  };

  return {
    blobs,
    load,
    async collectGarbage(referencedBlobIds) {
      for (const id of await readdir(blobDir)) {
        if (!referencedBlobIds.has(id)) await unlink(join(blobDir, id)).catch(ignoreMissing);
      }
    },
    saveBucket(bucket) {
      mkdirSync(join(bucketDir, bucket.name, "objects"), { recursive: true });
      const temporary = join(tmpDir, `${randomUUID()}.json`);
      writeFileSync(temporary, JSON.stringify({ format: FORMAT_VERSION, ...bucket }));
      renameSync(temporary, join(bucketDir, bucket.name, "bucket.json"));
    },
    deleteBucket(name) {
      // bucket.json goes first: a crash half-way leaves a directory load() removes.
      rmSync(join(bucketDir, name, "bucket.json"), { force: true });
      rmSync(join(bucketDir, name), { recursive: true, force: true });
    },
    saveObject: (bucket, object) =>
      writeJsonAtomically(join(bucketDir, bucket, "objects", objectFileName(object.key)), object),
    deleteObject: (bucket, key) =>
      unlink(join(bucketDir, bucket, "objects", objectFileName(key))).catch(ignoreMissing),
    saveUpload: (upload) => writeJsonAtomically(join(uploadDir, `${upload.uploadId}.json`), upload),
    deleteUpload: (uploadId) => unlink(join(uploadDir, `${uploadId}.json`)).catch(ignoreMissing),
  };
};
