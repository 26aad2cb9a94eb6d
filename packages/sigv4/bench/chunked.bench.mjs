// aws-chunked throughput: verify a 64 MiB signed stream (64 KiB chunks) and re-sign it for
// another key, against one node:crypto SHA-256 pass over the same payload. Not a test.
// Run after a build: cd packages/sigv4 && npx tsup && node bench/chunked.bench.mjs
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createChunkDecoder, createChunkEncoder, createChecksum } from "../dist/index.js";
import { nodeCryptoProvider } from "../dist/node.js";

const PAYLOAD_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
// Network reads do not line up with aws-chunked framing: feed the decoder 64 KiB slices of the wire.
const READ_BYTES = 64 * 1024;
const RUNS = 7;

const scope = { date: "20260102", region: "us-east-1", service: "s3" };
const contextFor = (label) => ({
  signingKey: createHash("sha256").update(`bench-key-${label}`).digest(),
  amzDate: "20260102T000000Z",
  scope,
  seedSignature: createHash("sha256").update(`seed-${label}`).digest("hex"),
});
const client = contextFor("client");
const upstream = contextFor("upstream");

const payload = randomBytes(PAYLOAD_BYTES);
const encodeWith = (context, data) => {
  const encoder = createChunkEncoder({
    signing: context,
    chunkSizeBytes: CHUNK_BYTES,
    crypto: nodeCryptoProvider,
  });
  return Buffer.concat([...encoder.push(data), ...encoder.end()]);
};
const wire = encodeWith(client, payload);
const reads = [];
for (let offset = 0; offset < wire.length; offset += READ_BYTES)
  reads.push(wire.subarray(offset, offset + READ_BYTES));

/**
 * Median time (ms) of each task, as CPU time of this process (user + system) and as wall time.
 * CPU time is what the ratios use: on a shared machine a run can be preempted, which inflates wall
 * time but not CPU time. Runs are interleaved (one of each task per round) so that any remaining
 * drift hits every task alike.
 */
const measureAll = (tasks) => {
  for (const run of tasks) run(); // warm-up
  const cpu = tasks.map(() => []);
  const wall = tasks.map(() => []);
  for (let round = 0; round < RUNS; round++)
    tasks.forEach((run, index) => {
      const cpuStart = process.cpuUsage();
      const wallStart = process.hrtime.bigint();
      run();
      const used = process.cpuUsage(cpuStart);
      wall[index].push(Number(process.hrtime.bigint() - wallStart) / 1e6);
      cpu[index].push((used.user + used.system) / 1e3);
    });
  const median = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
  return { cpu: cpu.map(median), wall: wall.map(median) };
};
const mbPerSecond = (ms) => PAYLOAD_BYTES / (1024 * 1024) / (ms / 1000);

let sink = 0;
const sha256Pass = () => {
  sink ^= createHash("sha256").update(payload).digest()[0];
};
// The same pass fed in 64 KiB updates, as a stream delivers it.
const sha256Streamed = () => {
  const hash = createHash("sha256");
  for (let offset = 0; offset < payload.length; offset += READ_BYTES)
    hash.update(payload.subarray(offset, offset + READ_BYTES));
  sink ^= hash.digest()[0];
};

const verifyOnly = () => {
  const decoder = createChunkDecoder({
    mode: "streaming-signed",
    signing: client,
    crypto: nodeCryptoProvider,
  });
  for (const read of reads) for (const piece of decoder.push(read)) sink ^= piece.length;
  sink ^= decoder.end().decodedLengthBytes;
};

// The proxy path: each chunk is hashed once by the decoder; the digest signs the outgoing chunk.
const verifyAndResign = () => {
  const decoder = createChunkDecoder({
    mode: "streaming-signed",
    signing: client,
    crypto: nodeCryptoProvider,
  });
  const encoder = createChunkEncoder({
    signing: upstream,
    chunkSizeBytes: CHUNK_BYTES,
    crypto: nodeCryptoProvider,
  });
  let outBytes = 0;
  for (const read of reads)
    for (const chunk of decoder.pushChunks(read))
      for (const piece of encoder.pushChunk(chunk)) outBytes += piece.length;
  decoder.end();
  for (const piece of encoder.end()) outBytes += piece.length;
  sink ^= outBytes;
};

// For comparison: re-signing through plain push(), which hashes every byte a second time.
const verifyAndResignRehash = () => {
  const decoder = createChunkDecoder({
    mode: "streaming-signed",
    signing: client,
    crypto: nodeCryptoProvider,
  });
  const encoder = createChunkEncoder({
    signing: upstream,
    chunkSizeBytes: CHUNK_BYTES,
    crypto: nodeCryptoProvider,
  });
  let outBytes = 0;
  for (const read of reads)
    for (const piece of decoder.push(read))
      for (const out of encoder.push(piece)) outBytes += out.length;
  decoder.end();
  for (const piece of encoder.end()) outBytes += piece.length;
  sink ^= outBytes;
};

// The floor for any implementation on node:crypto: per chunk one SHA-256 and two HMACs (verify and
// re-sign), with no framing, parsing or chaining at all.
const payloadChunks = [];
for (let offset = 0; offset < payload.length; offset += CHUNK_BYTES)
  payloadChunks.push(payload.subarray(offset, offset + CHUNK_BYTES));
const stringToSign = Buffer.alloc(230, 0x61);
const minimalLoop = () => {
  for (const chunk of payloadChunks) {
    const digest = createHash("sha256").update(chunk).digest();
    const verify = createHmac("sha256", client.signingKey).update(stringToSign).digest();
    const resign = createHmac("sha256", upstream.signingKey).update(stringToSign).digest();
    sink ^= digest[0] ^ verify[0] ^ resign[0];
  }
};

const crcPass = (algorithm) => () => {
  const checksum = createChecksum(algorithm, nodeCryptoProvider);
  checksum.update(payload);
  sink ^= checksum.digest()[0];
};

// The re-signed stream must verify with the upstream key and carry the same payload.
{
  const decoder = createChunkDecoder({
    mode: "streaming-signed",
    signing: upstream,
    crypto: nodeCryptoProvider,
  });
  const encoder = createChunkEncoder({
    signing: upstream,
    chunkSizeBytes: CHUNK_BYTES,
    crypto: nodeCryptoProvider,
  });
  const source = createChunkDecoder({
    mode: "streaming-signed",
    signing: client,
    crypto: nodeCryptoProvider,
  });
  const resigned = [];
  for (const read of reads)
    for (const chunk of source.pushChunks(read)) resigned.push(...encoder.pushChunk(chunk));
  source.end();
  resigned.push(...encoder.end());
  const decoded = Buffer.concat(decoder.push(Buffer.concat(resigned)));
  decoder.end();
  if (!decoded.equals(payload)) throw new Error("re-signed stream does not round-trip");
}

console.log(
  `aws-chunked bench: ${PAYLOAD_BYTES / 1048576} MiB payload, ${CHUNK_BYTES / 1024} KiB chunks, ${READ_BYTES / 1024} KiB reads, median of ${RUNS} interleaved runs, node ${process.version}`,
);
const labelled = [
  ["node:crypto SHA-256, one update of 64 MiB", sha256Pass],
  ["node:crypto SHA-256, 64 KiB updates", sha256Streamed],
  ["decode + verify chunk signatures (nodeCryptoProvider)", verifyOnly],
  ["decode + verify + re-sign for another key, digest reused", verifyAndResign],
  ["floor: raw node:crypto SHA-256 + 2 HMAC per chunk, no framing", minimalLoop],
  ["decode + verify + re-sign, hashing again (push/push)", verifyAndResignRehash],
  ["CRC32 over the payload", crcPass("crc32")],
  ["CRC32C over the payload", crcPass("crc32c")],
  ["CRC64NVME over the payload", crcPass("crc64nvme")],
];
const { cpu, wall } = measureAll(labelled.map(([, run]) => run));
// The faster of the two SHA-256 passes is the baseline, so the ratio is never flattered.
const baselineCpu = Math.min(cpu[0], cpu[1]);
const baselineWall = Math.min(wall[0], wall[1]);
console.log(`${"".padEnd(64)} ${"CPU time".padStart(26)}   ${"wall time".padStart(26)}`);
labelled.forEach(([label], index) => {
  const column = (ms, baseline) =>
    `${mbPerSecond(ms).toFixed(0).padStart(5)} MB/s ${ms.toFixed(1).padStart(6)} ms ${(baseline / ms).toFixed(2)}x`;
  console.log(
    `${label.padEnd(64)} ${column(cpu[index], baselineCpu)}   ${column(wall[index], baselineWall)}`,
  );
});
const resignRatio = baselineCpu / cpu[3];
const floorRatio = baselineCpu / cpu[4];
console.log(
  `chunk verify + re-sign vs one SHA-256 pass (CPU time): ${resignRatio.toFixed(2)}x (aim >= 0.80x) ${resignRatio >= 0.8 ? "OK" : "BELOW AIM"}; wall time ${(baselineWall / wall[3]).toFixed(2)}x; floor ${floorRatio.toFixed(2)}x`,
);
if (sink === 0.5) console.log(sink); // keeps the work observable
