// `pnpm bench` (turbo builds the package first): the pipeline with a null transport.
//  1. requests/s on one core for a header-signed GET (verify + authorize + re-sign), with
//     nodeCryptoProvider and with the default pure provider, side by side with bare SigV4 (only
//     the verification and the re-signing the pipeline cannot avoid, same crypto and requests):
//     their ratio is what the pipeline's own work (parse, checks, authorization, events) costs;
//  2. cold-stampede call counts: 1000 concurrent requests on cold caches → how many times the
//     hmacFetcher, validator and bucketCredsFetcher run.
// Not a test: it prints numbers; the sanity checks only make sure the path measured is the real one.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, "../dist/index.js"))) {
  console.error(
    "dist/index.js is missing: build first (pnpm build, or npx tsup in packages/core).",
  );
  process.exit(1);
}
const { createProxy } = await import("../dist/index.js");
const { createSigningKeyCache, nobleCryptoProvider, signRequest, verifyRequest } =
  await import("@osp/sigv4");
const { nodeCryptoProvider } = await import("@osp/sigv4/node");

const NOW = Date.UTC(2030, 0, 1, 12);
const CLIENT = { accessKeyId: "CLIENTKEY", secretAccessKey: "client-secret" };

/** A transport that answers 200 at once: the bench measures the proxy, not a network. */
const nullTransport = () => {
  let sent = 0;
  return {
    get sent() {
      return sent;
    },
    async send(request) {
      sent += 1;
      if (
        !request.headers.some(
          ([name, value]) => name === "authorization" && value.includes("Credential=BACKENDKEY/"),
        )
      ) {
        throw new Error("upstream request was not re-signed");
      }
      return { status: 200, headers: [["content-length", "0"]], body: null };
    },
  };
};

/** Header-signed client GETs, made once up front so client signing is not measured. */
const signedGets = (count, credentials = CLIENT) =>
  Array.from({ length: count }, (_, index) => {
    const path = `/bench/objects/key-${index}.bin`;
    const signed = signRequest(
      { method: "GET", path, query: "", headers: [["host", "proxy.local:8080"]] },
      { credentials, region: "us-east-1", now: NOW, crypto: nodeCryptoProvider },
    );
    return { method: "GET", path, query: "", headers: signed.headers, body: null };
  });

const config = (extra = {}) => ({
  cosMap: {
    bench: {
      host: "s3.backend.local",
      region: "us-east-1",
      accessKey: "BACKENDKEY",
      secretKey: "backend-secret",
      ...extra.bucket,
    },
  },
  hmacKeystore: [{ accessKey: CLIENT.accessKeyId, secretKey: CLIENT.secretAccessKey }],
  validator: () => true,
  ...extra.top,
});

/** Median requests/s of `handle` over 3 × 1.5 s with 32 requests in flight, after a warm-up. */
const measureRate = async (handle) => {
  const requests = signedGets(1024);
  const concurrency = 32;
  let index = 0;
  const runFor = async (durationMs) => {
    let done = 0;
    const deadline = performance.now() + durationMs;
    const worker = async () => {
      while (performance.now() < deadline) {
        const response = await handle(requests[index++ % requests.length]);
        if (response.status !== 200) throw new Error(`unexpected status ${response.status}`);
        done += 1;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return (done / (performance.now() - started)) * 1000;
  };
  await runFor(500); // warm-up: JIT, signing-key caches, authorization cache
  const rates = [];
  for (let round = 0; round < 3; round += 1) rates.push(await runFor(1500));
  rates.sort((a, b) => a - b);
  return rates[1];
};

const printRate = (label, rate) =>
  console.log(
    `  ${label.padEnd(34)} ${Math.round(rate).toLocaleString("en-US").padStart(8)} req/s (median of 3 × 1.5 s, 32 in flight)`,
  );

const throughput = async (label, crypto) => {
  const transport = nullTransport();
  const proxy = createProxy(config(), { transport, crypto, now: () => NOW });
  const rate = await measureRate((request) => proxy.handle(request));
  printRate(label, rate);
  return rate;
};

// What every SigV4 re-signing proxy does per request, and nothing else: verify the client's
// header signature against a static key, re-sign for the backend, send through the same null
// transport.
const BACKEND = { accessKeyId: "BACKENDKEY", secretAccessKey: "backend-secret" };
const REPLACED_BY_SIGNING = new Set([
  "host",
  "authorization",
  "x-amz-date",
  "x-amz-content-sha256",
]);
const bareSigV4 = async (label, crypto) => {
  const transport = nullTransport();
  const clientKeys = createSigningKeyCache({ crypto });
  const backendKeys = createSigningKeyCache({ crypto });
  const lookupSecret = (accessKeyId) =>
    accessKeyId === CLIENT.accessKeyId ? CLIENT.secretAccessKey : undefined;
  const handle = async (request) => {
    const verified = await verifyRequest(request, {
      lookupSecret,
      now: NOW,
      crypto,
      signingKeyCache: clientKeys,
    });
    const headers = [["host", "s3.backend.local"]];
    for (const pair of request.headers)
      if (!REPLACED_BY_SIGNING.has(pair[0].toLowerCase())) headers.push(pair);
    const signed = signRequest(
      { method: request.method, path: request.path, query: request.query, headers },
      {
        credentials: BACKEND,
        region: "us-east-1",
        now: NOW,
        payloadHash: verified.payloadHash,
        crypto,
        signingKeyCache: backendKeys,
      },
    );
    return transport.send({ method: request.method, headers: signed.headers });
  };
  const rate = await measureRate(handle);
  printRate(label, rate);
  return rate;
};

const stampede = async (label, { keys, buckets }) => {
  const calls = { hmacFetcher: 0, validator: 0, bucketCredsFetcher: 0 };
  const slow = (value) => new Promise((resolve) => setTimeout(() => resolve(value), 20));
  const cosMap = Object.fromEntries(
    Array.from({ length: buckets }, (_, index) => [
      `bucket-${index}`,
      { host: "s3.backend.local", ttl: 300 },
    ]),
  );
  const transport = nullTransport();
  const proxy = createProxy(
    {
      cosMap,
      hmacFetcher: (accessKeyId) => {
        calls.hmacFetcher += 1;
        return slow(`secret-of-${accessKeyId}`);
      },
      validator: () => {
        calls.validator += 1;
        return slow(true);
      },
      bucketCredsFetcher: () => {
        calls.bucketCredsFetcher += 1;
        return slow(JSON.stringify({ access_key: "BACKENDKEY", secret_key: "backend-secret" }));
      },
    },
    { transport, crypto: nodeCryptoProvider, now: () => NOW },
  );
  const requests = Array.from({ length: 1000 }, (_, index) => {
    const accessKeyId = `CLIENT${index % keys}`;
    const bucket = `bucket-${index % buckets}`;
    const path = `/${bucket}/object-${index}`;
    const signed = signRequest(
      { method: "GET", path, query: "", headers: [["host", "proxy.local"]] },
      {
        credentials: { accessKeyId, secretAccessKey: `secret-of-${accessKeyId}` },
        region: "us-east-1",
        now: NOW,
        crypto: nodeCryptoProvider,
      },
    );
    return { method: "GET", path, query: "", headers: signed.headers, body: null };
  });
  const started = performance.now();
  const responses = await Promise.all(requests.map((request) => proxy.handle(request)));
  const elapsedMs = performance.now() - started;
  if (responses.some((response) => response.status !== 200))
    throw new Error("stampede requests failed");
  console.log(
    `  ${label.padEnd(34)} hmacFetcher ${calls.hmacFetcher}, validator ${calls.validator}, bucketCredsFetcher ${calls.bucketCredsFetcher} calls for 1000 requests (${Math.round(elapsedMs)} ms, fetchers take 20 ms)`,
  );
  return calls;
};

console.log(`@osp/core benchmarks, node ${process.version}, ${process.platform}/${process.arch}\n`);
console.log("signed GET through the whole pipeline, null transport, one core:");
const nodeRate = await throughput("nodeCryptoProvider", nodeCryptoProvider);
const bareNodeRate = await bareSigV4("bare SigV4, nodeCryptoProvider", nodeCryptoProvider);
const nobleRate = await throughput("nobleCryptoProvider (default)", nobleCryptoProvider);
const bareNobleRate = await bareSigV4("bare SigV4, nobleCryptoProvider", nobleCryptoProvider);
console.log(`  ratio node/noble: ${(nodeRate / nobleRate).toFixed(1)}×`);
console.log(
  `  pipeline ÷ bare SigV4: ${(nodeRate / bareNodeRate).toFixed(2)} (node), ${(nobleRate / bareNobleRate).toFixed(2)} (noble)\n`,
);
console.log("cold stampede (1000 concurrent requests, empty caches):");
const one = await stampede("1 access key × 1 bucket", { keys: 1, buckets: 1 });
const many = await stampede("10 access keys × 5 buckets", { keys: 10, buckets: 5 });
if (one.hmacFetcher !== 1 || one.validator !== 1 || one.bucketCredsFetcher !== 1)
  throw new Error("single-flight failed");
if (many.hmacFetcher !== 10 || many.bucketCredsFetcher !== 10)
  throw new Error("per-key single-flight failed");
