// The load generator: one undici Pool per lane (64 keep-alive connections), requests sent with
// the low-level `dispatch` so the client costs as little as possible, and every request
// SigV4-signed like a real client (the same work for every lane, so client cost is equal).
import { performance } from "node:perf_hooks";
import { createSigningKeyCache, EMPTY_SHA256, signRequest, UNSIGNED_PAYLOAD } from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { Pool } from "undici";

/** Connections (and requests in flight) of the small-GET load. */
export const CONNECTIONS = 64;

const MAX_FAILURES = 10;

/**
 * A signing client for one lane. `sign` returns the flat header list of a request signed now.
 * @param {{ origin: string, credentials: { accessKeyId: string, secretAccessKey: string }, region?: string }} options
 */
export const createLaneClient = ({ origin, credentials, region = "us-east-1" }) => {
  const host = new URL(origin).host;
  const signingKeyCache = createSigningKeyCache({ crypto: nodeCryptoProvider });
  const pool = new Pool(origin, {
    connections: CONNECTIONS,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const sign = (method, path, payloadHash, extraHeaders = []) => {
    const signed = signRequest(
      { method, path, query: "", headers: [["host", host], ...extraHeaders] },
      {
        credentials,
        region,
        now: Date.now(),
        payloadHash,
        crypto: nodeCryptoProvider,
        signingKeyCache,
      },
    );
    const flat = [];
    for (const [name, value] of signed.headers) flat.push(name, value);
    return flat;
  };
  return { origin, pool, sign, close: () => pool.destroy() };
};

/**
 * One exchange. Resolves with status, body byte count and (if `keepBody`) the body, or rejects
 * on a transport error or after `timeoutMs`.
 */
export const exchange = (
  pool,
  { method, path, headers, body = null, keepBody = false, timeoutMs },
) =>
  new Promise((resolve, reject) => {
    let status = 0;
    let bytes = 0;
    let abort;
    let timer;
    const chunks = keepBody ? [] : undefined;
    if (timeoutMs != null) {
      timer = setTimeout(() => {
        const error = new Error(`${method} ${path}: no answer within ${timeoutMs} ms`);
        abort?.(error);
        reject(error);
      }, timeoutMs);
    }
    pool.dispatch(
      { method, path, headers, body },
      {
        onConnect(abortExchange) {
          abort = abortExchange;
        },
        onHeaders(statusCode) {
          status = statusCode;
          return true;
        },
        onData(chunk) {
          bytes += chunk.length;
          chunks?.push(chunk);
          return true;
        },
        onComplete() {
          clearTimeout(timer);
          resolve({ status, bytes, body: chunks == null ? undefined : Buffer.concat(chunks) });
        },
        onError(error) {
          clearTimeout(timer);
          reject(error);
        },
      },
    );
  });

const percentile = (sorted, fraction) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];

/** One signed GET, timed from its dispatch to the last body byte (signing excluded); never rejects. */
const timedGet = async (client, path, expectedBytes) => {
  const headers = client.sign("GET", path, EMPTY_SHA256);
  const sentAt = performance.now();
  let failure;
  try {
    const { status, bytes } = await exchange(client.pool, { method: "GET", path, headers });
    if (status !== 200 || bytes !== expectedBytes) failure = `status ${status}, ${bytes} bytes`;
  } catch (error) {
    failure = String(error?.message ?? error);
  }
  return { latencyMs: performance.now() - sentAt, failure };
};

/** Latencies and failures of one run of `total` GETs at most. */
const createTally = (total) => {
  const latenciesMs = new Float64Array(total);
  let firstFailure;
  const tally = {
    completed: 0,
    failures: 0,
    record: ({ latencyMs, failure }) => {
      if (failure != null) {
        tally.failures += 1;
        firstFailure ??= failure;
      }
      latenciesMs[tally.completed] = latencyMs;
      tally.completed += 1;
    },
    /** Requests, failures (and the first one's reason), p50 and p99. */
    summary: () => {
      const sorted = latenciesMs.subarray(0, tally.completed).sort();
      return {
        requests: tally.completed,
        failures: tally.failures,
        ...(firstFailure != null && { firstFailure }),
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
      };
    },
  };
  return tally;
};

/**
 * Closed-loop small GETs: `concurrency` workers issue `total` signed GETs, stopping early at
 * `timeLimitMs`. Latency is measured from dispatch to the last body byte (signing excluded).
 */
export const runSmallGets = async (
  client,
  { path, expectedBytes, total, concurrency = CONNECTIONS, timeLimitMs },
) => {
  const tally = createTally(total);
  let started = 0;
  const begin = performance.now();
  const clientCpuBefore = process.cpuUsage();
  const deadline = begin + timeLimitMs;
  const worker = async () => {
    // A few failures end the lane at once: a broken lane must not burn the time budget.
    while (started < total && tally.failures < MAX_FAILURES && performance.now() < deadline) {
      started += 1;
      tally.record(await timedGet(client, path, expectedBytes));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedSeconds = (performance.now() - begin) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  return {
    ...tally.summary(),
    elapsedSeconds,
    requestsPerSecond: tally.completed / elapsedSeconds,
    // The load generator's own CPU (signing + undici): when it nears 1 s per second, the client,
    // not the lane, limits requests/s.
    clientCpuMicrosPerRequest: (clientCpu.user + clientCpu.system) / tally.completed,
  };
};

/**
 * Open-loop small GETs at a fixed rate: request i is sent at `begin + i / ratePerSecond` whether
 * or not earlier ones have answered. A closed loop at saturation measures queueing (latency ≈
 * connections ÷ throughput); this measures what a request costs in time when every lane carries
 * the same load. Latency runs from the send to the last body byte, as in `runSmallGets`: the
 * sender's timer granularity stays out of it, while a proxy that stalls still delays every
 * request sent meanwhile (the sender runs in another process and keeps sending). Requests beyond
 * the pool's connections wait in undici's queue, and that wait counts too. `achievedPerSecond`
 * below the rate means the lane (or the load generator) could not keep up.
 */
export const runPacedSmallGets = (
  client,
  { path, expectedBytes, ratePerSecond, total, timeLimitMs },
) =>
  new Promise((resolve) => {
    const tally = createTally(total);
    const intervalMs = 1000 / ratePerSecond;
    let sent = 0;
    let sending = true;
    const begin = performance.now();
    const deadline = begin + timeLimitMs;
    const finish = () => {
      const elapsedSeconds = (performance.now() - begin) / 1000;
      resolve({
        ...tally.summary(),
        ratePerSecond,
        achievedPerSecond: tally.completed / elapsedSeconds,
      });
    };
    const send = () => {
      const now = performance.now();
      const dueCount = Math.min(total, Math.floor((now - begin) / intervalMs) + 1);
      while (sent < dueCount && tally.failures < MAX_FAILURES) {
        sent += 1;
        timedGet(client, path, expectedBytes).then((result) => {
          tally.record(result);
          if (!sending && tally.completed === sent) finish();
        });
      }
      if (sent < total && tally.failures < MAX_FAILURES && now < deadline) {
        setTimeout(send, Math.max(0, begin + sent * intervalMs - performance.now()));
        return;
      }
      sending = false;
      if (tally.completed === sent) finish();
    };
    send();
  });

/** One large signed GET; returns MB/s (10^6 bytes per second). */
export const runLargeGet = async (client, { path, expectedBytes, timeoutMs }) => {
  const headers = client.sign("GET", path, EMPTY_SHA256);
  const begin = performance.now();
  const { status, bytes } = await exchange(client.pool, {
    method: "GET",
    path,
    headers,
    timeoutMs,
  });
  const seconds = (performance.now() - begin) / 1000;
  if (status !== 200 || bytes !== expectedBytes) {
    throw new Error(`GET ${path}: status ${status}, ${bytes} of ${expectedBytes} bytes`);
  }
  return { seconds, mbPerSecond: bytes / 1e6 / seconds };
};

/** A body of `totalBytes` made of one reused block (never the whole body in memory). */
async function* repeatedBlocks(block, totalBytes) {
  let remaining = totalBytes;
  while (remaining > 0) {
    const size = Math.min(block.length, remaining);
    yield size === block.length ? block : block.subarray(0, size);
    remaining -= size;
  }
}

/** One large signed PUT (UNSIGNED-PAYLOAD, as clients stream big bodies); returns MB/s. */
export const runLargePut = async (client, { path, bytes, block, timeoutMs }) => {
  const headers = client.sign("PUT", path, UNSIGNED_PAYLOAD, [
    ["content-length", String(bytes)],
    ["content-type", "application/octet-stream"],
  ]);
  const begin = performance.now();
  const { status } = await exchange(client.pool, {
    method: "PUT",
    path,
    headers,
    body: repeatedBlocks(block, bytes),
    timeoutMs,
  });
  const seconds = (performance.now() - begin) / 1000;
  if (status < 200 || status > 299) throw new Error(`PUT ${path}: status ${status}`);
  return { seconds, mbPerSecond: bytes / 1e6 / seconds };
};
