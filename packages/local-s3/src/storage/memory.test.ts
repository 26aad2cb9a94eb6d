import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createMemoryPersistence } from "./memory.ts";

const readAll = async (iterable: AsyncIterable<Uint8Array>) => {
  const pieces: Buffer[] = [];
  for await (const piece of iterable) pieces.push(Buffer.from(piece));
  return Buffer.concat(pieces);
};

describe("memory blob store", () => {
  it("keeps the bytes of pieces that cross block boundaries and serves any range", async () => {
    const { blobs } = createMemoryPersistence();
    const data = randomBytes(3 * 1024 * 1024 + 12_345);
    const writer = blobs.createWriter();
    for (let offset = 0; offset < data.length; offset += 70_001)
      await writer.write(data.subarray(offset, offset + 70_001));
    const blob = await writer.finish();
    expect(blob.sizeBytes).toBe(data.length);
    expect((await readAll(blobs.read(blob, 0, data.length))).equals(data)).toBe(true);
    for (const [start, end] of [
      [0, 1],
      [65_535, 65_537],
      [1_000_000, 2_500_000],
      [data.length - 10, data.length],
    ] as const) {
      expect((await readAll(blobs.read(blob, start, end))).equals(data.subarray(start, end))).toBe(
        true,
      );
    }
  });

  it("copies pieces, so callers may reuse their buffers", async () => {
    const { blobs } = createMemoryPersistence();
    const piece = Buffer.from("abc");
    const writer = blobs.createWriter();
    await writer.write(piece);
    piece.fill(0);
    const blob = await writer.finish();
    expect((await readAll(blobs.read(blob, 0, 3))).toString()).toBe("abc");
  });

  it("refuses writes after abort and stores nothing for an empty blob but its size", async () => {
    const { blobs } = createMemoryPersistence();
    const aborted = blobs.createWriter();
    await aborted.abort();
    await expect(aborted.write(Buffer.from("x"))).rejects.toThrow();
    const empty = await blobs.createWriter().finish();
    expect(empty.sizeBytes).toBe(0);
    expect((await readAll(blobs.read(empty, 0, 0))).length).toBe(0);
  });
});
