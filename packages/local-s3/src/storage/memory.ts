// Memory storage: each blob is a list of Buffers, and records are only in the index.
import { randomUUID } from "node:crypto";
import type { Blob, BlobStore, BlobWriter, Persistence } from "./types.ts";

const MIN_BLOCK_BYTES = 64 * 1024;
const MAX_BLOCK_BYTES = 1024 * 1024;

const createMemoryBlobStore = (): BlobStore => {
  const blobs = new Map<string, Buffer[]>();
  return {
    createWriter(): BlobWriter {
      // Pieces are copied into blocks that grow from 64 KiB to 1 MiB: one copy (callers may
      // reuse their buffers), few large chunks to serve, little slack for small objects.
      let blocks: Buffer[] | undefined = [];
      let current = Buffer.allocUnsafe(0);
      let used = 0;
      let sizeBytes = 0;
      return {
        async write(piece) {
          if (blocks == null) throw new Error("blob writer is closed");
          let offset = 0;
          while (offset < piece.byteLength) {
            if (used === current.length) {
              if (used > 0) blocks.push(current);
              current = Buffer.allocUnsafe(
                Math.min(MAX_BLOCK_BYTES, Math.max(MIN_BLOCK_BYTES, sizeBytes)),
              );
              used = 0;
            }
            const count = Math.min(piece.byteLength - offset, current.length - used);
            current.set(piece.subarray(offset, offset + count), used);
            used += count;
            offset += count;
            sizeBytes += count;
          }
        },
        async finish(): Promise<Blob> {
          if (blocks == null) throw new Error("blob writer is closed");
          // The last block is trimmed to its content so small objects hold no slack.
          if (used > 0)
            blocks.push(used === current.length ? current : Buffer.from(current.subarray(0, used)));
          const id = randomUUID();
          blobs.set(id, blocks);
          blocks = undefined;
          return { id, sizeBytes };
        },
        async abort() {
          blocks = undefined;
        },
      };
    },
    async *read(blob, startByte, endByteExclusive) {
      const chunks = blobs.get(blob.id);
      if (chunks == null) throw new Error(`blob ${blob.id} is missing`);
      let offset = 0;
      for (const chunk of chunks) {
        const chunkEnd = offset + chunk.length;
        if (chunkEnd > startByte && offset < endByteExclusive) {
          yield chunk.subarray(
            Math.max(0, startByte - offset),
            Math.min(chunk.length, endByteExclusive - offset),
          );
        }
        offset = chunkEnd;
        if (offset >= endByteExclusive) return;
      }
    },
    async delete(blob) {
      blobs.delete(blob.id);
    },
  };
};

/** Storage that keeps everything in this process's memory. */
export const createMemoryPersistence = (): Persistence => ({
  blobs: createMemoryBlobStore(),
  load: async () => ({ buckets: [], objects: [], uploads: [] }),
  collectGarbage: async () => {},
  saveBucket: () => {},
  deleteBucket: () => {},
  saveObject: async () => {},
  deleteObject: async () => {},
  saveUpload: async () => {},
  deleteUpload: async () => {},
});
