// The index of buckets, objects and uploads, and the rules that keep it consistent with its
// persistence: every check-and-update is synchronous (no interleaving between a condition and
// the write it guards), persistence of one record is serialised in index order, and a blob is
// deleted only once no reader holds it.
import { S3Error } from "../errors.ts";
import { compareKeys } from "../listing.ts";
import type {
  Blob,
  Persistence,
  StoredBucket,
  StoredObject,
  StoredPart,
  StoredUpload,
} from "./types.ts";
import { etagListMatches } from "../conditions.ts";

interface BucketState {
  readonly record: StoredBucket;
  readonly objects: Map<string, StoredObject>;
  sortedKeys?: string[];
}

/** Write preconditions of PutObject/CompleteMultipartUpload/CopyObject. */
export interface WriteConditions {
  /** `If-None-Match`: only `*` is meaningful for writes. */
  readonly ifNoneMatch?: string;
  readonly ifMatch?: string;
}

/** A held read of some blobs; `release()` is idempotent. */
export interface BlobLease {
  release(): void;
}

// Runs tasks with the same key one after another, in call order.
class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}

/** Checks write preconditions against the current object (or its absence). */
export const checkWriteConditions = (
  conditions: WriteConditions | undefined,
  current: StoredObject | undefined,
  key: string,
): void => {
  if (conditions?.ifNoneMatch != null) {
    if (conditions.ifNoneMatch.trim() !== "*") {
      throw new S3Error("NotImplemented", "If-None-Match on a write only supports *.");
    }
    if (current != null)
      throw new S3Error("PreconditionFailed", undefined, {
        detail: { Condition: "If-None-Match" },
      });
  }
  if (conditions?.ifMatch != null) {
    if (current == null) throw new S3Error("NoSuchKey", undefined, { detail: { Key: key } });
    if (!etagListMatches(conditions.ifMatch, current.etag))
      throw new S3Error("PreconditionFailed", undefined, { detail: { Condition: "If-Match" } });
  }
};

/** The index over a Persistence. */
export class Store {
  readonly #persistence: Persistence;
  readonly #buckets = new Map<string, BucketState>();
  readonly #uploads = new Map<string, StoredUpload>();
  readonly #pins = new Map<string, number>();
  readonly #doomed = new Map<string, Blob>();
  readonly #queue = new KeyedQueue();
  readonly #deletions = new Set<Promise<void>>();

  private constructor(persistence: Persistence) {
    this.#persistence = persistence;
  }

  /** Loads what the persistence holds and deletes unreferenced blobs. */
  static async open(persistence: Persistence): Promise<Store> {
    const store = new Store(persistence);
    const snapshot = await persistence.load();
    const referenced = new Set<string>();
    for (const bucket of snapshot.buckets)
      store.#buckets.set(bucket.name, { record: bucket, objects: new Map() });
    for (const { bucket, object } of snapshot.objects) {
      store.#buckets.get(bucket)?.objects.set(object.key, object);
      for (const blob of object.blobs) referenced.add(blob.id);
    }
    for (const upload of snapshot.uploads) {
      store.#uploads.set(upload.uploadId, upload);
      for (const part of upload.parts) referenced.add(part.blob.id);
    }
    await persistence.collectGarbage(referenced);
    return store;
  }

  /** Creates blob writers. */
  get blobs(): Persistence["blobs"] {
    return this.#persistence.blobs;
  }

  // ---- buckets -------------------------------------------------------------------------

  listBuckets(): StoredBucket[] {
    return [...this.#buckets.values()]
      .map((bucket) => bucket.record)
      .sort((a, b) => compareKeys(a.name, b.name));
  }

  getBucket(name: string): StoredBucket | undefined {
    return this.#buckets.get(name)?.record;
  }

  /** Throws NoSuchBucket when it does not exist. */
  requireBucket(name: string): StoredBucket {
    return this.#bucket(name).record;
  }

  /** Returns false when the bucket already exists. */
  createBucket(name: string, createdMs: number): boolean {
    if (this.#buckets.has(name)) return false;
    const record: StoredBucket = { name, createdMs };
    this.#persistence.saveBucket(record);
    this.#buckets.set(name, { record, objects: new Map() });
    return true;
  }

  /** Deletes an empty bucket; its multipart uploads in progress are aborted. */
  async deleteBucket(name: string): Promise<void> {
    const bucket = this.#bucket(name);
    if (bucket.objects.size > 0)
      throw new S3Error("BucketNotEmpty", undefined, { detail: { BucketName: name } });
    this.#persistence.deleteBucket(name);
    this.#buckets.delete(name);
    const uploads = [...this.#uploads.values()].filter((upload) => upload.bucket === name);
    await Promise.all(uploads.map((upload) => this.abortUpload(upload.uploadId)));
  }

  // ---- objects -------------------------------------------------------------------------

  getObject(bucket: string, key: string): StoredObject | undefined {
    return this.#bucket(bucket).objects.get(key);
  }

  /** All keys of a bucket in S3 listing order (cached until a key is added or removed). */
  sortedKeys(bucket: string): ReadonlyArray<string> {
    const state = this.#bucket(bucket);
    state.sortedKeys ??= [...state.objects.keys()].sort(compareKeys);
    return state.sortedKeys;
  }

  /** Makes `object` current under its key, after checking `conditions` atomically. */
  async putObject(
    bucket: string,
    object: StoredObject,
    conditions?: WriteConditions,
  ): Promise<void> {
    let state: BucketState;
    try {
      state = this.#bucket(bucket);
      checkWriteConditions(conditions, state.objects.get(object.key), object.key);
    } catch (error) {
      this.release(object.blobs);
      throw error;
    }
    const previous = state.objects.get(object.key);
    this.#setObject(state, object);
    try {
      await this.#queue.run(`o:${bucket}/${object.key}`, () =>
        this.#persistence.saveObject(bucket, object),
      );
    } catch (error) {
      if (state.objects.get(object.key) === object) {
        if (previous == null) this.#removeObject(state, object.key);
        else this.#setObject(state, previous);
      }
      this.release(object.blobs);
      throw error;
    }
    if (previous != null) this.release(previous.blobs);
  }

  /** Deletes an object; false when there was none. */
  async deleteObject(bucket: string, key: string): Promise<boolean> {
    const state = this.#bucket(bucket);
    const previous = state.objects.get(key);
    if (previous == null) return false;
    this.#removeObject(state, key);
    await this.#queue.run(`o:${bucket}/${key}`, () => this.#persistence.deleteObject(bucket, key));
    this.release(previous.blobs);
    return true;
  }

  #setObject(state: BucketState, object: StoredObject): void {
    if (!state.objects.has(object.key)) state.sortedKeys = undefined;
    state.objects.set(object.key, object);
  }

  #removeObject(state: BucketState, key: string): void {
    if (state.objects.delete(key)) state.sortedKeys = undefined;
  }

  // ---- reading -------------------------------------------------------------------------

  /**
   * Holds blobs so that an overwrite or delete during a download does not remove them.
   * Release the lease when the read is over (also when it never started).
   */
  lease(blobs: ReadonlyArray<Blob>): BlobLease {
    for (const blob of blobs) this.#pins.set(blob.id, (this.#pins.get(blob.id) ?? 0) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const blob of blobs) {
          const count = (this.#pins.get(blob.id) ?? 1) - 1;
          if (count > 0) {
            this.#pins.set(blob.id, count);
            continue;
          }
          this.#pins.delete(blob.id);
          const doomed = this.#doomed.get(blob.id);
          if (doomed != null) {
            this.#doomed.delete(blob.id);
            this.#deleteBlob(doomed);
          }
        }
      },
    };
  }

  /** Bytes `[startByte, endByteExclusive)` of a sequence of blobs (leased by the caller). */
  async *read(
    blobs: ReadonlyArray<Blob>,
    startByte: number,
    endByteExclusive: number,
  ): AsyncGenerator<Uint8Array> {
    let offset = 0;
    for (const blob of blobs) {
      const blobEnd = offset + blob.sizeBytes;
      if (blobEnd > startByte && offset < endByteExclusive) {
        yield* this.#persistence.blobs.read(
          blob,
          Math.max(0, startByte - offset),
          Math.min(blob.sizeBytes, endByteExclusive - offset),
        );
      }
      offset = blobEnd;
      if (offset >= endByteExclusive) return;
    }
  }

  /** Deletes blobs now, or when their last reader lets go. */
  release(blobs: ReadonlyArray<Blob>): void {
    for (const blob of blobs) {
      if (this.#pins.has(blob.id)) this.#doomed.set(blob.id, blob);
      else this.#deleteBlob(blob);
    }
  }

  #deleteBlob(blob: Blob): void {
    const deletion = this.#persistence.blobs.delete(blob).catch(() => {});
    this.#deletions.add(deletion);
    void deletion.then(() => this.#deletions.delete(deletion));
  }

  // ---- multipart -----------------------------------------------------------------------

  async createUpload(upload: StoredUpload): Promise<void> {
    this.#bucket(upload.bucket);
    this.#uploads.set(upload.uploadId, upload);
    await this.#queue.run(`u:${upload.uploadId}`, () => this.#persistence.saveUpload(upload));
  }

  /** The upload, which must belong to this bucket and key; else NoSuchUpload. */
  getUpload(bucket: string, key: string, uploadId: string): StoredUpload {
    this.#bucket(bucket);
    const upload = this.#uploads.get(uploadId);
    if (upload == null || upload.bucket !== bucket || upload.key !== key)
      throw new S3Error("NoSuchUpload", undefined, { detail: { UploadId: uploadId } });
    return upload;
  }

  listUploads(bucket: string): StoredUpload[] {
    this.#bucket(bucket);
    return [...this.#uploads.values()].filter((upload) => upload.bucket === bucket);
  }

  /** Adds (or replaces) a part; the blob is released if the upload is gone meanwhile. */
  async putPart(bucket: string, key: string, uploadId: string, part: StoredPart): Promise<void> {
    let upload: StoredUpload;
    try {
      upload = this.getUpload(bucket, key, uploadId);
    } catch (error) {
      this.release([part.blob]);
      throw error;
    }
    const previous = upload.parts.find((existing) => existing.partNumber === part.partNumber);
    const parts = upload.parts.filter((existing) => existing.partNumber !== part.partNumber);
    parts.push(part);
    parts.sort((a, b) => a.partNumber - b.partNumber);
    const updated: StoredUpload = { ...upload, parts };
    this.#uploads.set(uploadId, updated);
    await this.#queue.run(`u:${uploadId}`, async () => {
      // Persist the newest state: parts that landed meanwhile are in it too.
      const current = this.#uploads.get(uploadId);
      if (current != null) await this.#persistence.saveUpload(current);
    });
    if (previous != null) this.release([previous.blob]);
  }

  /**
   * Turns an upload into an object made of `chosen` parts (already validated by the caller),
   * checking the write conditions first; unchosen parts are released.
   */
  async completeUpload(
    upload: StoredUpload,
    object: StoredObject,
    chosen: ReadonlyArray<StoredPart>,
    conditions?: WriteConditions,
  ): Promise<void> {
    const state = this.#bucket(upload.bucket);
    if (this.#uploads.get(upload.uploadId) !== upload)
      throw new S3Error("NoSuchUpload", undefined, { detail: { UploadId: upload.uploadId } });
    checkWriteConditions(conditions, state.objects.get(object.key), object.key);
    this.#uploads.delete(upload.uploadId);
    const chosenIds = new Set(chosen.map((part) => part.blob.id));
    const previous = state.objects.get(object.key);
    this.#setObject(state, object);
    await this.#queue.run(`o:${upload.bucket}/${object.key}`, () =>
      this.#persistence.saveObject(upload.bucket, object),
    );
    await this.#queue.run(`u:${upload.uploadId}`, () =>
      this.#persistence.deleteUpload(upload.uploadId),
    );
    this.release(
      upload.parts.filter((part) => !chosenIds.has(part.blob.id)).map((part) => part.blob),
    );
    if (previous != null) this.release(previous.blobs);
  }

  async abortUpload(uploadId: string): Promise<void> {
    const upload = this.#uploads.get(uploadId);
    if (upload == null)
      throw new S3Error("NoSuchUpload", undefined, { detail: { UploadId: uploadId } });
    this.#uploads.delete(uploadId);
    await this.#queue.run(`u:${uploadId}`, () => this.#persistence.deleteUpload(uploadId));
    this.release(upload.parts.map((part) => part.blob));
  }

  /** Waits for queued persistence and blob deletions. */
  async flush(): Promise<void> {
    await this.#queue.drain();
    await Promise.all(this.#deletions);
  }

  #bucket(name: string): BucketState {
    const state = this.#buckets.get(name);
    if (state == null)
      throw new S3Error("NoSuchBucket", undefined, { detail: { BucketName: name } });
    return state;
  }
}
