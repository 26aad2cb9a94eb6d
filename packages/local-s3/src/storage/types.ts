// The storage model: immutable blobs of bytes, and the records (buckets, objects, multipart
// uploads) that point at them. The index lives in memory; a Persistence makes it durable.
import type { ChecksumAlgorithm } from "@osp/sigv4";

/** An immutable run of stored bytes. */
export interface Blob {
  readonly id: string;
  readonly sizeBytes: number;
}

/**
 * Receives a body piece by piece. Nothing is visible until `finish()`; `abort()` discards
 * everything written, so a failed upload never leaves a half-written blob.
 */
export interface BlobWriter {
  write(piece: Uint8Array): Promise<void>;
  finish(): Promise<Blob>;
  abort(): Promise<void>;
}

/** Where blob bytes live. */
export interface BlobStore {
  createWriter(): BlobWriter;
  /** Bytes `[startByte, endByteExclusive)` of a blob. */
  read(blob: Blob, startByte: number, endByteExclusive: number): AsyncIterable<Uint8Array>;
  delete(blob: Blob): Promise<void>;
}

/** The representation headers and user metadata stored with an object. */
export interface ObjectHeaders {
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly contentDisposition?: string;
  readonly contentLanguage?: string;
  readonly cacheControl?: string;
  readonly expires?: string;
  /** `x-amz-meta-*` pairs: lower-case name without the prefix, value as received. */
  readonly metadata: ReadonlyArray<readonly [string, string]>;
}

/** A checksum the client sent and the server verified. */
export interface StoredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly valueBase64: string;
}

/** A bucket. */
export interface StoredBucket {
  readonly name: string;
  readonly createdMs: number;
}

/** An object: its bytes are the concatenation of `blobs` (one per part for multipart). */
export interface StoredObject {
  readonly key: string;
  readonly sizeBytes: number;
  /** Quoted, as sent in the ETag header. */
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly headers: ObjectHeaders;
  readonly checksum?: StoredChecksum;
  readonly blobs: ReadonlyArray<Blob>;
  /** True when made by CompleteMultipartUpload: `blobs` are its parts. */
  readonly multipart: boolean;
}

/** One uploaded part of a multipart upload. */
export interface StoredPart {
  readonly partNumber: number;
  /** Quoted MD5 hex. */
  readonly etag: string;
  readonly sizeBytes: number;
  readonly lastModifiedMs: number;
  readonly blob: Blob;
  readonly checksum?: StoredChecksum;
}

/** A multipart upload in progress. */
export interface StoredUpload {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly initiatedMs: number;
  readonly headers: ObjectHeaders;
  readonly checksumAlgorithm?: ChecksumAlgorithm;
  readonly parts: ReadonlyArray<StoredPart>;
}

/** Everything a Persistence holds, as loaded at start-up. */
export interface Snapshot {
  readonly buckets: ReadonlyArray<StoredBucket>;
  readonly objects: ReadonlyArray<{ readonly bucket: string; readonly object: StoredObject }>;
  readonly uploads: ReadonlyArray<StoredUpload>;
}

/**
 * Makes the index durable. Memory storage does nothing; directory storage writes one JSON
 * file per record with write-to-temp-then-rename, so a crash leaves the old or the new record.
 */
export interface Persistence {
  readonly blobs: BlobStore;
  load(): Promise<Snapshot>;
  /** Deletes blobs no record references (left by a crash between blob and record writes). */
  collectGarbage(referencedBlobIds: ReadonlySet<string>): Promise<void>;
  /**
   * Bucket records change synchronously: `LocalS3.createBucket()` is synchronous, and a
   * delete followed at once by a create of the same name must not interleave on disk.
   */
  saveBucket(bucket: StoredBucket): void;
  deleteBucket(name: string): void;
  saveObject(bucket: string, object: StoredObject): Promise<void>;
  deleteObject(bucket: string, key: string): Promise<void>;
  saveUpload(upload: StoredUpload): Promise<void>;
  deleteUpload(uploadId: string): Promise<void>;
}
