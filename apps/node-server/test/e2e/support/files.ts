import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** SHA-256 of bytes in memory, as lower-case hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** SHA-256 of a file, streamed (memory independent of the file's size), as lower-case hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** SHA-256 of a web or Node readable stream, as lower-case hex. */
export async function sha256Stream(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest("hex");
}

/** Writes `sizeBytes` random bytes to `path` in 1 MiB writes and returns their SHA-256. */
export async function writeRandomFile(path: string, sizeBytes: number): Promise<string> {
  const chunkBytes = 1024 * 1024;
  const hash = createHash("sha256");
  const file = await open(path, "w");
  try {
    for (let written = 0; written < sizeBytes; written += chunkBytes) {
      const chunk = randomBytes(Math.min(chunkBytes, sizeBytes - written));
      hash.update(chunk);
      await file.write(chunk);
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}

/** A fresh private temporary folder and a function that removes it. */
export async function makeTempDir(
  prefix: string,
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
