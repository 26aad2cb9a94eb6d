// Verify of a typical S3 GET (6 signed headers) with nodeCryptoProvider and a warm signing-key
// cache, against @smithy/signature-v4 (the AWS SDK's signer, with @smithy/hash-node) signing the
// same request. Both run side by side in one process, alternating, several rounds; the median
// ops/s of each and their ratio are printed. Run after a build: node bench/verify.bench.mjs
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  createSigningKeyCache,
  nobleCryptoProvider,
  parseAuthorization,
  signRequest,
  verifyRequest,
  verifyRequestWithSecret,
} from "../dist/index.js";
import { nodeCryptoProvider } from "../dist/node.js";

const ROUNDS = 7;
const ROUND_MS = 400;
const credentials = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const now = Date.UTC(2026, 0, 2, 12, 0, 0);
const host = "my-bucket.s3.eu-west-1.amazonaws.com";
const path = "/photos/2026/01/IMG_0001.jpg";
const query = "x-id=GetObject";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// What an SDK GetObject carries: six signed headers, plus unsigned ones a server also sees.
const requestHeaders = [
  ["Host", host],
  ["Range", "bytes=0-1048575"],
  ["If-None-Match", '"9b2cf535f27731c974343645a3985328"'],
  ["x-amz-checksum-mode", "ENABLED"],
  ["x-amz-content-sha256", EMPTY_SHA256],
];
const signed = signRequest(
  { method: "GET", path, query, headers: requestHeaders },
  { credentials, region: "eu-west-1", now, crypto: nodeCryptoProvider },
);
const incoming = {
  method: "GET",
  path,
  query,
  headers: [
    ...signed.headers,
    ["User-Agent", "aws-sdk-js/3.1175.0 ua/2.1 os/linux lang/js md/nodejs#20.20.2 api/s3#3.1175.0"],
    ["amz-sdk-invocation-id", "4f6c3b0e-1d1b-4c55-9e0e-5a1f5d0f6a11"],
    ["amz-sdk-request", "attempt=1; max=3"],
    ["Accept", "*/*"],
    ["Connection", "keep-alive"],
  ],
};
if (signed.signedHeaders.length !== 6)
  throw new Error(`expected 6 signed headers: ${signed.signedHeaders}`);

const lookupSecret = (id) =>
  id === credentials.accessKeyId ? credentials.secretAccessKey : undefined;
const nodeOptions = {
  lookupSecret,
  now,
  region: "eu-west-1",
  crypto: nodeCryptoProvider,
  signingKeyCache: createSigningKeyCache({ crypto: nodeCryptoProvider }),
};
const nobleOptions = {
  ...nodeOptions,
  crypto: nobleCryptoProvider,
  signingKeyCache: createSigningKeyCache({ crypto: nobleCryptoProvider }),
};

const smithy = new SignatureV4({
  credentials,
  region: "eu-west-1",
  service: "s3",
  sha256: Hash.bind(null, "sha256"),
  uriEscapePath: false,
  applyChecksum: true,
});
const smithyRequest = () =>
  new HttpRequest({
    method: "GET",
    protocol: "https:",
    hostname: host,
    path,
    query: { "x-id": "GetObject" },
    headers: {
      host,
      range: "bytes=0-1048575",
      "if-none-match": '"9b2cf535f27731c974343645a3985328"',
      "x-amz-checksum-mode": "ENABLED",
      "x-amz-content-sha256": EMPTY_SHA256,
    },
  });
const signingDate = new Date(now);

// Sanity: both sides do the real work on the same request (same signature).
const smithySigned = await smithy.sign(smithyRequest(), { signingDate });
if (smithySigned.headers.authorization !== signed.authorization) {
  throw new Error("smithy and @osp/sigv4 disagree on the benchmark request");
}
const verified = await verifyRequest(incoming, nodeOptions);
if (verified.signature !== signed.signature) throw new Error("verify returned another signature");

const cases = {
  "@osp/sigv4 verifyRequest (node:crypto, warm key cache)": () =>
    verifyRequest(incoming, nodeOptions),
  "@smithy/signature-v4 sign (hash-node)": () => smithy.sign(smithyRequest(), { signingDate }),
  "@osp/sigv4 verifyRequestWithSecret, sync core (node:crypto)": () =>
    verifyRequestWithSecret(incoming, credentials.secretAccessKey, {
      now,
      region: "eu-west-1",
      crypto: nodeCryptoProvider,
      signingKeyCache: nodeOptions.signingKeyCache,
      parsed: parseAuthorization(incoming),
    }),
  "@osp/sigv4 verifyRequest (noble, warm key cache)": () => verifyRequest(incoming, nobleOptions),
};

// The machine may be shared: cases run interleaved in small batches and each batch is timed in
// process CPU time, so a neighbour's load slows every case alike instead of skewing one of them.
const BATCH = 64;
const cpuMicros = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
const runBatch = async (operation) => {
  const start = cpuMicros();
  for (let i = 0; i < BATCH; i++) {
    const result = operation();
    if (result instanceof Promise) await result;
  }
  return cpuMicros() - start;
};

const names = Object.keys(cases);
/** One round: batches of every case in turn for about ROUND_MS; ops per CPU-second per case. */
const round = async () => {
  const spent = names.map(() => 0);
  const wallStart = performance.now();
  let batches = 0;
  while (performance.now() - wallStart < ROUND_MS || batches < 4) {
    for (let index = 0; index < names.length; index++) {
      spent[index] += await runBatch(cases[names[index]]);
    }
    batches++;
  }
  return spent.map((micros) => (batches * BATCH * 1e6) / Math.max(micros, 1));
};

await round(); // warm-up (JIT, caches)
const samples = names.map(() => []);
const ratios = [];
for (let r = 0; r < ROUNDS; r++) {
  const opsPerSecond = await round();
  opsPerSecond.forEach((value, index) => samples[index].push(value));
  ratios.push(opsPerSecond[0] / opsPerSecond[1]);
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

console.log(
  `S3 GetObject, ${signed.signedHeaders.length} signed headers (${signed.signedHeaders.join(";")}); ${ROUNDS} rounds of interleaved ${BATCH}-op batches, ops per CPU-second (median of rounds)`,
);
const medians = samples.map(median);
names.forEach((name, index) => {
  const spread = `${Math.round(Math.min(...samples[index]))}-${Math.round(Math.max(...samples[index]))}`;
  console.log(
    `${name.padEnd(62)} ${Math.round(medians[index]).toString().padStart(8)} ops/s  (rounds ${spread})`,
  );
});
const ratio = median(ratios);
console.log(
  `verify (node:crypto) vs smithy sign: ${ratio.toFixed(2)}x, median of per-round ratios (rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}; aim >= 3x) ${ratio >= 3 ? "OK" : "BELOW AIM"}`,
);
console.log(`verify (noble) vs smithy sign: ${(medians[3] / medians[1]).toFixed(2)}x`);
