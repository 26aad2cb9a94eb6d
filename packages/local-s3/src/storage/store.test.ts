import { describe, expect, it } from "vitest";
import { S3Error } from "../errors.ts";
import { createMemoryPersistence } from "./memory.ts";
import { Store } from "./store.ts";
import type { Blob, Persistence, StoredObject } from "./types.ts";

const collect = async (iterable: AsyncIterable<Uint8Array>) => {
  const pieces: Buffer[] = [];
  for await (const piece of iterable) pieces.push(Buffer.from(piece));
  return Buffer.concat(pieces).toString();
};

const setup = async () => {
  const base = createMemoryPersistence();
  const deleted: string[] = [];
  const persistence: Persistence = {
    ...base,
    blobs: {
      ...base.blobs,
      createWriter: () => base.blobs.createWriter(),
      read: (blob, start, end) => base.blobs.read(blob, start, end),
      delete: async (blob) => {
        deleted.push(blob.id);
        await base.blobs.delete(blob);
      },
    },
  };
  const store = await Store.open(persistence);
  store.createBucket("b", 0);
  const blob = async (text: string): Promise<Blob> => {
    const writer = store.blobs.createWriter();
    for (const char of text) await writer.write(Buffer.from(char));
    return writer.finish();
  };
  const object = async (key: string, text: string): Promise<StoredObject> => ({
    key,
    sizeBytes: text.length,
    etag: `"${text}"`,
    lastModifiedMs: 0,
    headers: { metadata: [] },
    blobs: [await blob(text)],
    multipart: false,
  });
  return { store, deleted, blob, object };
};

describe("Store", () => {
  it("reads byte ranges across blobs", async () => {
    const { store, blob } = await setup();
    const blobs = [await blob("hello "), await blob("big "), await blob("world")];
    expect(await collect(store.read(blobs, 0, 15))).toBe("hello big world");
    expect(await collect(store.read(blobs, 4, 12))).toBe("o big wo");
    expect(await collect(store.read(blobs, 10, 11))).toBe("w");
  });

  it("keeps a leased blob until the lease is released", async () => {
    const { store, deleted, object } = await setup();
    const first = await object("k", "one");
    await store.putObject("b", first);
    const lease = store.lease(first.blobs);
    await store.putObject("b", await object("k", "two"));
    expect(deleted).toEqual([]);
    expect(await collect(store.read(first.blobs, 0, 3))).toBe("one");
    lease.release();
    lease.release();
    await store.flush();
    expect(deleted).toEqual([first.blobs[0]!.id]);
  });

  it("checks write conditions atomically and releases the refused blob", async () => {
    const { store, deleted, object } = await setup();
    await store.putObject("b", await object("k", "one"), { ifNoneMatch: "*" });
    const refused = await object("k", "two");
    await expect(store.putObject("b", refused, { ifNoneMatch: "*" })).rejects.toMatchObject({
      code: "PreconditionFailed",
    });
    await expect(
      store.putObject("b", await object("missing", "x"), { ifMatch: '"x"' }),
    ).rejects.toMatchObject({
      code: "NoSuchKey",
    });
    await store.flush();
    expect(deleted).toContain(refused.blobs[0]!.id);
    expect(store.getObject("b", "k")?.etag).toBe('"one"');
  });

  it("refuses to delete a bucket with objects and aborts its uploads when deleting it", async () => {
    const { store, object, blob, deleted } = await setup();
    await store.putObject("b", await object("k", "x"));
    await expect(store.deleteBucket("b")).rejects.toBeInstanceOf(S3Error);
    await store.deleteObject("b", "k");
    await store.createUpload({
      uploadId: "u",
      bucket: "b",
      key: "k",
      initiatedMs: 0,
      headers: { metadata: [] },
      parts: [],
    });
    const part = await blob("part");
    await store.putPart("b", "k", "u", {
      partNumber: 1,
      etag: '"p"',
      sizeBytes: 4,
      lastModifiedMs: 0,
      blob: part,
    });
    await store.deleteBucket("b");
    await store.flush();
    expect(deleted).toContain(part.id);
    expect(store.getBucket("b")).toBeUndefined();
    expect(() => store.getUpload("b", "k", "u")).toThrow(S3Error);
  });

  it("keeps keys sorted in UTF-8 order as they come and go", async () => {
    const { store, object } = await setup();
    for (const key of ["b", "😀", "a", "\uffff"])
      await store.putObject("b", await object(key, key));
    expect(store.sortedKeys("b")).toEqual(["a", "b", "\uffff", "😀"]);
    await store.deleteObject("b", "b");
    expect(store.sortedKeys("b")).toEqual(["a", "\uffff", "😀"]);
  });

  it("replaces a re-uploaded part and releases the old one, and refuses parts of a finished upload", async () => {
    const { store, blob, deleted } = await setup();
    const upload = {
      uploadId: "u",
      bucket: "b",
      key: "k",
      initiatedMs: 0,
      headers: { metadata: [] },
      parts: [],
    };
    await store.createUpload(upload);
    const old = await blob("old");
    await store.putPart("b", "k", "u", {
      partNumber: 1,
      etag: '"o"',
      sizeBytes: 3,
      lastModifiedMs: 0,
      blob: old,
    });
    const fresh = await blob("new");
    await store.putPart("b", "k", "u", {
      partNumber: 1,
      etag: '"n"',
      sizeBytes: 3,
      lastModifiedMs: 0,
      blob: fresh,
    });
    expect(store.getUpload("b", "k", "u").parts.map((part) => part.etag)).toEqual(['"n"']);
    await store.abortUpload("u");
    const late = await blob("late");
    await expect(
      store.putPart("b", "k", "u", {
        partNumber: 2,
        etag: '"l"',
        sizeBytes: 4,
        lastModifiedMs: 0,
        blob: late,
      }),
    ).rejects.toMatchObject({ code: "NoSuchUpload" });
    await store.flush();
    expect(deleted).toEqual(expect.arrayContaining([old.id, fresh.id, late.id]));
  });
});
