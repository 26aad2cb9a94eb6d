// `pnpm bench` (turbo builds the package first): the pipeline with a null transport.
//  1. requests/s on one core for a header-signed GET (verify + authorize + re-sign), with
//     nodeCryptoProvider and with the default pure provider, side by side with bare SigV4 (only
//     the verification and the re-signing the pipeline cannot avoid, same crypto and requests,
//     rounds alternating): their ratio is what the pipeline's own work (parse, checks,
//     authorization, events) costs;
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

const CONCURRENCY = 32;
const ROUNDS = 5;
const ROUND_MS = 1000;

/** Runs `handle` for `durationMs` with CONCURRENCY requests in flight; returns requests/s. */
const runFor = async (handle, requests, durationMs) => {
  let index = 0;
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
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return (done / (performance.now() - started)) * 1000;
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * The pipeline and bare SigV4 side by side: after a warm-up each, rounds alternate between the
 * two, so that a slower moment of the machine hits both; the ratio is the median of the
 * per-round ratios.
 */
const compare = async (label, crypto) => {
  const requests = signedGets(1024);
  const proxy = createProxy(config(), { transport: nullTransport(), crypto, now: () => NOW });
  const pipeline = (request) => proxy.handle(request);
  const bare = bareSigV4(crypto);
  await runFor(pipeline, requests, 500); // warm-up: JIT, signing-key caches, decision cache
  await runFor(bare, requests, 500);
  const rates = { pipeline: [], bare: [], ratio: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    const pipelineRate = await runFor(pipeline, requests, ROUND_MS);
    const bareRate = await runFor(bare, requests, ROUND_MS);
    rates.pipeline.push(pipelineRate);
    rates.bare.push(bareRate);
    rates.ratio.push(pipelineRate / bareRate);
  }
  const row = (name, rate) =>
    console.log(
      `  ${`${name}, ${label}`.padEnd(46)} ${Math.round(rate).toLocaleString("en-US").padStart(8)} req/s`,
    );
  row("pipeline", median(rates.pipeline));
  row("bare SigV4", median(rates.bare));
  console.log(
    `  ${"pipeline ÷ bare SigV4".padEnd(46)} ${median(rates.ratio).toFixed(2).padStart(8)}`,
  );
  return median(rates.pipeline);
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
const bareSigV4 = (crypto) => {
  const transport = nullTransport();
  const clientKeys = createSigningKeyCache({ crypto });
  const backendKeys = createSigningKeyCache({ crypto });
  const lookupSecret = (accessKeyId) =>
    accessKeyId === CLIENT.accessKeyId ? CLIENT.secretAccessKey : undefined;
  return async (request) => {
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
console.log(
  `signed GET, null transport, one core, ${CONCURRENCY} in flight; medians of ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s:`,
);
const nodeRate = await compare("nodeCryptoProvider", nodeCryptoProvider);
const nobleRate = await compare("nobleCryptoProvider (default)", nobleCryptoProvider);
console.log(`  pipeline node ÷ noble: ${(nodeRate / nobleRate).toFixed(1)}×\n`);
console.log("cold stampede (1000 concurrent requests, empty caches):");
const one = await stampede("1 access key × 1 bucket", { keys: 1, buckets: 1 });
const many = await stampede("10 access keys × 5 buckets", { keys: 10, buckets: 5 });
if (one.hmacFetcher !== 1 || one.validator !== 1 || one.bucketCredsFetcher !== 1)
  throw new Error("single-flight failed");
if (many.hmacFetcher !== 10 || many.bucketCredsFetcher !== 10)
  throw new Error("per-key single-flight failed");
