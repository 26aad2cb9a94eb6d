// Memory stays flat while 256 MiB stream through OSP in each direction: bodies are never
// buffered whole. The backend hashes uploads and generates downloads, storing nothing.
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { memoryUsage } from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerHandle } from "../src/index.ts";
import { CLIENT, ospConfig, startControlledBackend, startOsp } from "./support/harness.ts";
import { signRequest } from "./support/sigv4-client.ts";

const TOTAL_BYTES = 256 * 1024 * 1024;
const CHUNK = randomBytes(1024 * 1024);
const expectedDigest = (() => {
  const hash = createHash("sha256");
  for (let sent = 0; sent < TOTAL_BYTES; sent += CHUNK.byteLength) hash.update(CHUNK);
  return hash.digest("hex");
})();

/** Samples RSS every 10 ms while `run` runs; returns the peak growth over the start. */
const peakRssGrowth = async (run: () => Promise<void>): Promise<number> => {
  const baseline = memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryUsage.rss());
  }, 10);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, memoryUsage.rss()) - baseline;
};

describe("memory with large streamed bodies", () => {
  let backend: Awaited<ReturnType<typeof startControlledBackend>>;
  let osp: ServerHandle;
  let uploadDigest = "";
  let uploadBytes = 0;

  beforeAll(async () => {
    backend = await startControlledBackend((req, res) => {
      if (req.method === "PUT") {
        const hash = createHash("sha256");
        uploadBytes = 0;
        req.on("data", (chunk: Buffer) => {
          hash.update(chunk);
          uploadBytes += chunk.byteLength;
        });
        req.on("end", () => {
          uploadDigest = hash.digest("hex");
          res.writeHead(200, { etag: '"0"', "content-length": "0" });
          res.end();
        });
        return;
      }
      req.resume();
      res.writeHead(200, {
        "content-length": String(TOTAL_BYTES),
        "content-type": "application/octet-stream",
      });
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL_BYTES) {
          sent += CHUNK.byteLength;
          if (!res.write(CHUNK)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    osp = await startOsp(ospConfig(backend.port, { logLevel: "silent" }));
  });

  afterAll(async () => {
    await osp?.close();
    await backend?.close();
  });

  it("streams a 256 MiB upload and download with RSS growth far below the body size", async () => {
    const url = new URL(osp.http!.url);
    const path = "/test-bucket/big.bin";

    const putGrowth = await peakRssGrowth(
      () =>
        new Promise<void>((resolve, reject) => {
          const headers = signRequest({
            method: "PUT",
            host: url.host,
            path,
            credentials: CLIENT,
            headers: { "content-length": String(TOTAL_BYTES) },
          });
          const req = httpRequest(
            `${osp.http!.url}${path}`,
            { method: "PUT", headers, agent: false },
            (res) => {
              res.resume();
              res.on("end", () =>
                res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${res.statusCode}`)),
              );
            },
          );
          req.on("error", reject);
          let written = 0;
          const pump = () => {
            while (written < TOTAL_BYTES) {
              written += CHUNK.byteLength;
              if (!req.write(CHUNK)) {
                req.once("drain", pump);
                return;
              }
            }
            req.end();
          };
          pump();
        }),
    );
    expect(uploadBytes).toBe(TOTAL_BYTES);
    expect(uploadDigest).toBe(expectedDigest);

    let downloadDigest = "";
    let downloadBytes = 0;
    const getGrowth = await peakRssGrowth(
      () =>
        new Promise<void>((resolve, reject) => {
          const headers = signRequest({ method: "GET", host: url.host, path, credentials: CLIENT });
          const req = httpRequest(`${osp.http!.url}${path}`, { headers, agent: false }, (res) => {
            const hash = createHash("sha256");
            res.on("data", (chunk: Buffer) => {
              hash.update(chunk);
              downloadBytes += chunk.byteLength;
            });
            res.on("end", () => {
              downloadDigest = hash.digest("hex");
              resolve();
            });
            res.on("error", reject);
          });
          req.on("error", reject);
          req.end();
        }),
    );
    expect(downloadBytes).toBe(TOTAL_BYTES);
    expect(downloadDigest).toBe(expectedDigest);

    // Both directions in one process (client, OSP and backend): a buffered body would add 256 MiB.
    console.log(
      `RSS growth: PUT ${(putGrowth / 2 ** 20).toFixed(1)} MiB, GET ${(getGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(putGrowth).toBeLessThan(96 * 1024 * 1024);
    expect(getGrowth).toBeLessThan(96 * 1024 * 1024);
  });
});
