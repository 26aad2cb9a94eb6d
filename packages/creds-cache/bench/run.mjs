#!/usr/bin/env node
// @osp/creds-cache against lru-cache 11 (fetchMethod) in one process, same workload, same machine.
// Run after a build: `pnpm --filter @osp/creds-cache bench` (turbo builds dist first) or
// `npx tsup && node bench/run.mjs` inside the package.
import { LRUCache } from "lru-cache";
import { createCredsCache } from "../dist/index.js";

const KEY_COUNT = 1000;
const HIT_OPS = 500_000;
const STAMPEDE_WAITERS = 1000;
const STAMPEDE_ROUNDS = 200;
const ROUNDS = 5;
const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

const keys = Array.from(
  { length: KEY_COUNT },
  (_, index) => `AKIA${String(index).padStart(16, "0")}`,
);
const secretFor = (key) => ({ secretAccessKey: `secret-for-${key}` });

const median = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** One implementation under test: a hit path and a stampede driver with the same shapes. */
const makeOsp = () => {
  let gate;
  let loads = 0;
  const cache = createCredsCache({ ttlMs: TTL_MS, maxEntries: MAX_ENTRIES });
  const warmLoad = ({ key }) => secretFor(key);
  const gatedLoad = () => {
    loads += 1;
    return gate;
  };
  return {
    name: "@osp/creds-cache",
    warm: () => Promise.all(keys.map((key) => cache.get(key, warmLoad))),
    hit: (key) => cache.get(key, warmLoad),
    peek: (key) => cache.peek(key),
    stampede: (key, promise) => {
      gate = promise;
      const waiters = [];
      for (let index = 0; index < STAMPEDE_WAITERS; index += 1) {
        waiters.push(cache.get(key, gatedLoad));
      }
      return waiters;
    },
    loads: () => loads,
  };
};

const makeLru = () => {
  let gate;
  let loads = 0;
  let warming = true;
  const cache = new LRUCache({
    max: MAX_ENTRIES,
    ttl: TTL_MS,
    fetchMethod: (key) => {
      if (warming) return secretFor(key);
      loads += 1;
      return gate;
    },
  });
  return {
    name: "lru-cache 11",
    warm: async () => {
      await Promise.all(keys.map((key) => cache.fetch(key)));
      warming = false;
    },
    hit: (key) => cache.fetch(key),
    peek: (key) => cache.get(key),
    stampede: (key, promise) => {
      gate = promise;
      const waiters = [];
      for (let index = 0; index < STAMPEDE_WAITERS; index += 1) waiters.push(cache.fetch(key));
      return waiters;
    },
    loads: () => loads,
  };
};

const hitPathNs = async (impl) => {
  const started = performance.now();
  for (let op = 0; op < HIT_OPS; op += 1) {
    // Awaited one at a time, as a request handler does.
    await impl.hit(keys[op % KEY_COUNT]);
  }
  return ((performance.now() - started) * 1e6) / HIT_OPS;
};

const peekNs = (impl) => {
  let found = 0;
  const started = performance.now();
  for (let op = 0; op < HIT_OPS; op += 1)
    if (impl.peek(keys[op % KEY_COUNT]) !== undefined) found += 1;
  const ns = ((performance.now() - started) * 1e6) / HIT_OPS;
  if (found !== HIT_OPS) throw new Error(`${impl.name}: peek missed ${HIT_OPS - found} times`);
  return ns;
};

const stampede = async (impl, round) => {
  const loadsBefore = impl.loads();
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
  });
  const value = { secretAccessKey: `cold-${round}` };
  const started = performance.now();
  const waiters = impl.stampede(`cold-${round}`, gate);
  release(value);
  const results = await Promise.all(waiters);
  const elapsedUs = (performance.now() - started) * 1000;
  if (!results.every((result) => result === value)) throw new Error(`${impl.name}: wrong value`);
  return { elapsedUs, loads: impl.loads() - loadsBefore };
};

const implementations = [makeOsp(), makeLru()];
for (const impl of implementations) await impl.warm();

const samples = new Map(
  implementations.map((impl) => [impl.name, { hit: [], peek: [], stampede: [], loads: 0 }]),
);
// Interleave the implementations round by round so that drift (JIT, GC, a busy neighbour on the
// shared cores) hits both alike; the first round is a warm-up and is discarded.
for (let round = 0; round <= ROUNDS; round += 1) {
  for (const impl of implementations) {
    const hit = await hitPathNs(impl);
    const peek = peekNs(impl);
    const stampedeTimes = [];
    let loads = 0;
    for (let index = 0; index < STAMPEDE_ROUNDS; index += 1) {
      const result = await stampede(impl, `${round}-${index}`);
      stampedeTimes.push(result.elapsedUs);
      loads += result.loads;
    }
    if (round === 0) continue;
    const sample = samples.get(impl.name);
    sample.hit.push(hit);
    sample.peek.push(peek);
    sample.stampede.push(median(stampedeTimes));
    sample.loads += loads;
  }
}

const rows = implementations.map((impl) => {
  const sample = samples.get(impl.name);
  return {
    name: impl.name,
    hitNs: median(sample.hit),
    peekNs: median(sample.peek),
    stampedeUs: median(sample.stampede),
    loadsPerStampede: sample.loads / (ROUNDS * STAMPEDE_ROUNDS),
  };
});

const pad = (text, width) => String(text).padStart(width);
console.log(
  `node ${process.version}, ${KEY_COUNT} warm keys, ${HIT_OPS} hits/round, ` +
    `${STAMPEDE_ROUNDS} stampedes of ${STAMPEDE_WAITERS} waiters/round, median of ${ROUNDS} rounds`,
);
console.log(
  `${"implementation".padEnd(18)}${pad("hit ns/op", 12)}${pad("peek ns/op", 12)}` +
    `${pad("stampede µs", 13)}${pad("loads/stampede", 16)}`,
);
for (const row of rows) {
  console.log(
    `${row.name.padEnd(18)}${pad(row.hitNs.toFixed(1), 12)}${pad(row.peekNs.toFixed(1), 12)}` +
      `${pad(row.stampedeUs.toFixed(1), 13)}${pad(row.loadsPerStampede, 16)}`,
  );
}
const [osp, lru] = rows;
console.log(
  `ratio creds-cache/lru-cache (lower is faster): hit ${(osp.hitNs / lru.hitNs).toFixed(2)}x, ` +
    `peek ${(osp.peekNs / lru.peekNs).toFixed(2)}x, stampede ${(osp.stampedeUs / lru.stampedeUs).toFixed(2)}x`,
);
if (osp.loadsPerStampede !== 1) {
  console.error(`FAIL: ${osp.loadsPerStampede} loads per 1000-way stampede, expected exactly 1`);
  process.exitCode = 1;
}
