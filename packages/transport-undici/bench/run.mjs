#!/usr/bin/env node
// @osp/transport-undici against undici's own `request` API on the same Pool settings, one process,
// same loopback backend (a child node:http server so its CPU is not counted in our event loop).
// Run after a build: `npx tsup && node bench/run.mjs` inside the package.
import { spawn } from "node:child_process";
import { Pool } from "undici";
import { createUndiciTransport } from "../dist/index.js";

const SMALL_BYTES = 4096;
const SMALL_REQUESTS = 20_000;
const CONCURRENCY = 64;
const LARGE_BYTES = 256 * 1024 * 1024;
const ROUNDS = 3;

const BACKEND = `
  const small = Buffer.alloc(${SMALL_BYTES}, 97);
  const block = Buffer.alloc(65536, 98);
  require("node:http").createServer(async (req, res) => {
    if (req.url.startsWith("/large")) {
      const size = ${LARGE_BYTES};
      res.writeHead(200, { "content-length": String(size) });
      for (let offset = 0; offset < size; offset += block.length) {
        if (!res.write(block)) await new Promise((resolve) => res.once("drain", resolve));
      }
      return res.end();
    }
    res.writeHead(200, { "content-length": String(small.length) });
    res.end(small);
  }).listen(0, "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });
`;

const child = spawn(process.execPath, ["-e", BACKEND], { stdio: ["ignore", "pipe", "inherit"] });
const port = await new Promise((resolve) =>
  child.stdout.once("data", (data) => resolve(String(data).trim())),
);
const origin = `http://127.0.0.1:${port}`;

const median = (samples) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];

/** Runs `total` requests with `concurrency` in flight; returns requests per second. */
const smallLane = async (sendOne) => {
  let started = 0;
  const begin = performance.now();
  const worker = async () => {
    while (started < SMALL_REQUESTS) {
      started += 1;
      await sendOne();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return SMALL_REQUESTS / ((performance.now() - begin) / 1000);
};

const largeLane = async (getOne) => {
  const begin = performance.now();
  const bytes = await getOne();
  if (bytes !== LARGE_BYTES) throw new Error(`short body: ${bytes}`);
  return LARGE_BYTES / 1024 / 1024 / ((performance.now() - begin) / 1000);
};

const transport = createUndiciTransport();
const viaTransport = {
  small: async () => {
    const response = await transport.send({
      method: "GET",
      origin,
      pathAndQuery: "/small",
      headers: [["x-amz-date", "20250101T000000Z"]],
      body: null,
      verifyTls: true,
      // One controller per request, as the proxy core makes.
      signal: new AbortController().signal,
    });
    for await (const chunk of response.body) void chunk;
  },
  large: async () => {
    const response = await transport.send({
      method: "GET",
      origin,
      pathAndQuery: "/large",
      headers: [],
      body: null,
      verifyTls: true,
      // One controller per request, as the proxy core makes.
      signal: new AbortController().signal,
    });
    let bytes = 0;
    for await (const chunk of response.body) bytes += chunk.byteLength;
    return bytes;
  },
};

const pool = new Pool(origin, { pipelining: 1, keepAliveTimeout: 4000 });
const viaRequest = {
  small: async () => {
    const { body } = await pool.request({
      method: "GET",
      path: "/small",
      headers: ["x-amz-date", "20250101T000000Z"],
    });
    for await (const chunk of body) void chunk;
  },
  large: async () => {
    const { body } = await pool.request({ method: "GET", path: "/large" });
    let bytes = 0;
    for await (const chunk of body) bytes += chunk.byteLength;
    return bytes;
  },
};

const results = { transport: { small: [], large: [] }, request: { small: [], large: [] } };
// Warm both paths before measuring.
await smallLane(viaTransport.small);
await smallLane(viaRequest.small);
for (let round = 0; round < ROUNDS; round += 1) {
  results.transport.small.push(await smallLane(viaTransport.small));
  results.request.small.push(await smallLane(viaRequest.small));
  results.transport.large.push(await largeLane(viaTransport.large));
  results.request.large.push(await largeLane(viaRequest.large));
}

const row = (name, lane) =>
  `${name.padEnd(28)} ${median(lane.small).toFixed(0).padStart(8)} req/s   ${median(lane.large).toFixed(0).padStart(6)} MiB/s`;
console.log(
  `small GET ${SMALL_BYTES} B x ${SMALL_REQUESTS}, ${CONCURRENCY} in flight; large GET ${LARGE_BYTES / 1024 / 1024} MiB; median of ${ROUNDS}`,
);
console.log(row("@osp/transport-undici", results.transport));
console.log(row("undici Pool#request", results.request));
console.log(
  `ratio transport/request: small ${(median(results.transport.small) / median(results.request.small)).toFixed(2)}x, large ${(median(results.transport.large) / median(results.request.large)).toFixed(2)}x`,
);

await transport.close();
await pool.close();
child.kill();
