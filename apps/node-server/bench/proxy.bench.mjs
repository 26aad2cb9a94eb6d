#!/usr/bin/env node
// `pnpm bench` (issue 5): how much OSP adds to Node's floor, on loopback, lanes side by side
// against the same fast backend (nginx serving fixed objects):
//   (a) direct to nginx              (b) through OSP: SigV4 verify + authorize + re-sign
//   (b') OSP with logLevel "warn"    (c) a minimal undici pass-through proxy, no signing
//   (d) nginx proxy_pass             (e) the pass-through plus only SigV4 verify + re-sign
// Small GET (4 KiB, 64 connections): requests/s, p50/p99 and proxy CPU per request at
// saturation (closed loop); then p50/p99 of OSP, (c) and (e) at one equal offered load (open
// loop, half of OSP's saturated rate). 1 GiB GET and PUT: MB/s, CPU per GiB, and the peak RSS of
// OSP (its own process) against its idle RSS.
// Lanes are interleaved over rounds; medians are reported. Every client request is SigV4-signed
// on every lane, so client cost is equal. Results: .test-results/bench-proxy.json.
// Imports the BUILT packages: run after `pnpm build` (the turbo `bench` task builds first).
//
// Environment knobs: OSP_BENCH_SMALL_REQUESTS (20000 per lane and round), OSP_BENCH_SMALL_ROUNDS
// (5), OSP_BENCH_PACED_SHARE (0.5 of OSP's saturated req/s), OSP_BENCH_PACED_SECONDS (2 per lane
// and round), OSP_BENCH_PACED_ROUNDS (3), OSP_BENCH_LARGE_MIB (1024), OSP_BENCH_LARGE_ROUNDS (3),
// OSP_BENCH_LOG_LEVEL (lane b, "info"; logs go to /dev/null), OSP_BENCH_QUIET_LANE (0 drops lane
// b'), OSP_BENCH_BUDGET_S (270: later rounds are dropped to finish in time), OSP_BENCH_CPU_PROF (a
// directory: profile OSP and the pass-through with --cpu-prof and print their top frames),
// OSP_BENCH_PIN (1: proxy lanes on one CPU, client and backend on another), NGINX_BIN.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EMPTY_SHA256, UNSIGNED_PAYLOAD } from "@osp/sigv4";
import {
  childPids,
  cpuSeconds,
  installCleanup,
  peakRssBytes,
  resetPeakRss,
  rssBytes,
  spawnTracked,
  startRssSampler,
  stopChild,
  trackTempDir,
  waitForMessage,
} from "./lanes/children.mjs";
import { summariseCpuProfile } from "./lanes/cpu-profile.mjs";
import {
  CONNECTIONS,
  createLaneClient,
  exchange,
  runLargeGet,
  runLargePut,
  runPacedSmallGets,
  runSmallGets,
} from "./lanes/load.mjs";
import { backendConfig, findNginx, proxyConfig, startNginx } from "./lanes/nginx.mjs";
import {
  computeRatios,
  formatNumber,
  median,
  renderReport,
  summariseLanes,
  toMiB,
} from "./lanes/report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const appDir = join(here, "..");
const repoRoot = join(appDir, "..", "..");
const resultsPath = join(repoRoot, ".test-results", "bench-proxy.json");

const envNumber = (name, fallback) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

const SMALL_BYTES = 4096;
const SMALL_REQUESTS = envNumber("OSP_BENCH_SMALL_REQUESTS", 20_000);
const SMALL_WARMUP_REQUESTS = Math.min(4_000, SMALL_REQUESTS);
const SMALL_ROUNDS = envNumber("OSP_BENCH_SMALL_ROUNDS", 5);
const SMALL_LANE_LIMIT_MS = 20_000;
const PACED_SHARE = Math.min(envNumber("OSP_BENCH_PACED_SHARE", 0.5), 0.9);
const PACED_SECONDS = envNumber("OSP_BENCH_PACED_SECONDS", 2);
const PACED_ROUNDS = envNumber("OSP_BENCH_PACED_ROUNDS", 3);
/** The lanes compared at equal load: OSP, its floor (c) and SigV4's floor (e). */
const PACED_LANES = new Set(["osp", "passthrough", "sigv4-floor"]);
const LARGE_BYTES = envNumber("OSP_BENCH_LARGE_MIB", 1024) * 1024 * 1024;
const LARGE_ROUNDS = envNumber("OSP_BENCH_LARGE_ROUNDS", 3);
const LARGE_TIMEOUT_MS = 60_000;
/** Soft budget: rounds that would not fit are dropped. The hard stop is a minute later. */
const BUDGET_MS = envNumber("OSP_BENCH_BUDGET_S", 270) * 1000;
/** Share of the budget the small-GET phase may use before the large phase starts. */
const SMALL_PHASE_SHARE = 0.4;
/** Large rounds OSP and the pass-through always get (RSS "flat across rounds" needs them). */
const MIN_LARGE_ROUNDS = 3;
const OSP_LOG_LEVEL = process.env.OSP_BENCH_LOG_LEVEL ?? "info";
const QUIET_LANE = process.env.OSP_BENCH_QUIET_LANE !== "0" && OSP_LOG_LEVEL !== "warn";
const CPU_PROF_DIR = process.env.OSP_BENCH_CPU_PROF;
const PIN_CPUS = process.env.OSP_BENCH_PIN === "1";
const BLOCK_BYTES = 1024 * 1024;

const BUCKET = "bench";
const CLIENT = { accessKeyId: "AKIABENCHCLIENT", secretAccessKey: "bench-client-secret" };
const BACKEND = { accessKeyId: "AKIABENCHBACKEND", secretAccessKey: "bench-backend-secret" };
const SMALL_PATH = `/${BUCKET}/small-4k.bin`;
const LARGE_PATH = `/${BUCKET}/large.bin`;

const log = (line = "") => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const rotate = (list, by) => list.map((_, index) => list[(index + by) % list.length]);

/** First line a command prints (stdout, else stderr: `nginx -v` writes there), or undefined. */
const commandOutput = (command, args) => {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error != null) return undefined;
  return (result.stdout.trim() || result.stderr.trim()).split("\n")[0] || undefined;
};

/** Scratch space on tmpfs when there is one: nginx stores PUT bodies there at memory speed. */
const makeWorkDir = () => {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return trackTempDir(mkdtempSync(join(base, "osp-bench-")));
};

const writeFixtures = (dataDir) => {
  mkdirSync(join(dataDir, BUCKET), { recursive: true });
  const small = randomBytes(SMALL_BYTES);
  writeFileSync(join(dataDir, SMALL_PATH), small);
  const block = randomBytes(BLOCK_BYTES);
  const fd = openSync(join(dataDir, LARGE_PATH), "w");
  try {
    for (let written = 0; written < LARGE_BYTES; written += BLOCK_BYTES) {
      writeSync(fd, block, 0, Math.min(BLOCK_BYTES, LARGE_BYTES - written));
    }
  } finally {
    closeSync(fd);
  }
  return { small, block };
};

/** Starts a Node child (`script` in ./lanes) with IPC and waits for its "ready" port. */
const startNodeChild = async (script, args, { execArgv = [], env = {} } = {}) => {
  const child = spawnTracked(
    process.execPath,
    [...execArgv, join(here, "lanes", script), ...args],
    {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      cwd: appDir,
      env: { ...process.env, ...env },
    },
  );
  const { port } = await waitForMessage(child, "ready");
  return { child, port, url: `http://127.0.0.1:${port}` };
};

/**
 * OSP_BENCH_PIN=1: every proxy lane on the last CPU, the load generator and the backend on CPU 0
 * (taskset). On a small machine the proxies then stop competing with the client for a core, and
 * CPU per request is much steadier from run to run; requests/s then measure one proxy core.
 * Returns what was done, for the header.
 */
const pinCpus = (lanes, services) => {
  const proxyCpu = cpus().length - 1;
  if (proxyCpu < 1 || spawnSync("taskset", ["-V"]).error != null) {
    return "not pinned (needs taskset and 2 CPUs)";
  }
  const pin = (pids, cpu) => {
    for (const pid of pids)
      spawnSync("taskset", ["-apc", String(cpu), String(pid)], { stdio: "ignore" });
  };
  pin([process.pid], 0);
  for (const service of services) pin([service.child.pid, ...childPids(service.child.pid)], 0);
  for (const lane of lanes) if (lane.id !== "nginx-direct") pin(lane.cpuPids, proxyCpu);
  return `proxy lanes pinned to CPU ${proxyCpu}, load generator and backend to CPU 0`;
};

/** Checks that a lane serves the right bytes and stores a PUT intact before measuring it. */
const probeLane = async (lane, { small, dataDir, backendStoresPuts }) => {
  const got = await exchange(lane.client.pool, {
    method: "GET",
    path: SMALL_PATH,
    headers: lane.client.sign("GET", SMALL_PATH, EMPTY_SHA256),
    keepBody: true,
    timeoutMs: 10_000,
  });
  if (got.status !== 200 || !got.body.equals(small)) {
    const detail = got.status === 200 ? "" : `: ${got.body.toString("utf8").slice(0, 300)}`;
    throw new Error(
      `${lane.label}: probe GET answered ${got.status} with ${got.bytes} bytes${detail}`,
    );
  }
  const probePath = `/${BUCKET}/probe-${lane.id}.bin`;
  const { status } = await exchange(lane.client.pool, {
    method: "PUT",
    path: probePath,
    headers: lane.client.sign("PUT", probePath, UNSIGNED_PAYLOAD, [
      ["content-length", String(small.length)],
    ]),
    body: small,
    timeoutMs: 10_000,
  });
  if (status < 200 || status > 299) throw new Error(`${lane.label}: probe PUT answered ${status}`);
  if (backendStoresPuts && !readFileSync(join(dataDir, probePath)).equals(small)) {
    throw new Error(`${lane.label}: the backend stored other bytes than were PUT`);
  }
};

/** Runs one large transfer, recording the lane's CPU seconds per GiB and (Node lanes) peak RSS. */
const measureLargeTransfer = async (lane, action) => {
  const pid = lane.rssPid;
  const kernelPeak = pid != null && resetPeakRss(pid);
  const sampler = pid == null ? undefined : startRssSampler(pid);
  const cpuBefore = cpuSeconds(lane.cpuPids);
  const result = await action();
  result.cpuSecondsPerGiB = ((cpuSeconds(lane.cpuPids) - cpuBefore) * 1024 ** 3) / LARGE_BYTES;
  if (sampler == null) return { result };
  const sampledPeak = sampler.stop();
  return {
    result,
    peakRssBytes: kernelPeak ? Math.max(peakRssBytes(pid), sampledPeak) : sampledPeak,
  };
};

/** Backend, proxies and lane descriptions. `services` collects what must be stopped. */
const startLanes = async ({ nginxBin, workDir, dataDir, services }) => {
  const lanes = [];
  // --expose-gc: the orchestrator collects garbage between measurements (see settledRssBytes).
  const profileArgs = (name) =>
    CPU_PROF_DIR == null
      ? ["--expose-gc"]
      : [
          "--expose-gc",
          "--cpu-prof",
          "--cpu-prof-dir",
          CPU_PROF_DIR,
          "--cpu-prof-name",
          `${name}.cpuprofile`,
        ];

  let backend;
  if (nginxBin != null) {
    backend = await startNginx({
      nginxBin,
      prefix: join(workDir, "nginx-backend"),
      render: ({ prefix, port }) => backendConfig({ prefix, dataDir, port }),
    });
    services.push({ child: backend.child, stop: { signal: "SIGTERM" } });
    lanes.push({
      id: "nginx-direct",
      label: "(a) nginx direct",
      url: backend.url,
      large: true,
      cpuPids: childPids(backend.child.pid),
    });
  } else {
    backend = await startNodeChild("node-backend.mjs", [dataDir]);
    services.push({ child: backend.child, stop: { message: { type: "stop" } } });
  }

  const ospEnv = (logLevel) => ({
    OSP_BENCH_LANE_OPTIONS: JSON.stringify({
      backendPort: backend.port,
      bucket: BUCKET,
      client: CLIENT,
      backend: BACKEND,
      logLevel,
    }),
  });
  const osp = await startNodeChild("osp-server.mjs", [], {
    execArgv: profileArgs("osp"),
    env: ospEnv(OSP_LOG_LEVEL),
  });
  services.push({ child: osp.child, stop: { message: { type: "stop" } }, profile: "osp" });
  lanes.push({
    id: "osp",
    label: `(b) OSP (log ${OSP_LOG_LEVEL})`,
    url: osp.url,
    large: true,
    rssPid: osp.child.pid,
    child: osp.child,
    cpuPids: [osp.child.pid],
    startRssBytes: rssBytes(osp.child.pid),
  });

  if (QUIET_LANE) {
    const quiet = await startNodeChild("osp-server.mjs", [], { env: ospEnv("warn") });
    services.push({ child: quiet.child, stop: { message: { type: "stop" } } });
    lanes.push({
      id: "osp-quiet",
      label: "(b') OSP (log warn)",
      url: quiet.url,
      large: false,
      cpuPids: [quiet.child.pid],
    });
  }

  const passThrough = await startNodeChild("passthrough-server.mjs", [backend.url], {
    execArgv: profileArgs("passthrough"),
  });
  services.push({
    child: passThrough.child,
    stop: { message: { type: "stop" } },
    profile: "passthrough",
  });
  lanes.push({
    id: "passthrough",
    label: "(c) undici pass-through",
    url: passThrough.url,
    large: true,
    rssPid: passThrough.child.pid,
    child: passThrough.child,
    cpuPids: [passThrough.child.pid],
    startRssBytes: rssBytes(passThrough.child.pid),
  });

  // Small GETs only: it says what SigV4 alone costs over the pass-through.
  const floor = await startNodeChild("sigv4-floor-server.mjs", [], {
    env: {
      OSP_BENCH_LANE_OPTIONS: JSON.stringify({
        backendPort: backend.port,
        client: CLIENT,
        backend: BACKEND,
      }),
    },
  });
  services.push({ child: floor.child, stop: { message: { type: "stop" } } });
  lanes.push({
    id: "sigv4-floor",
    label: "(e) pass-through + SigV4",
    url: floor.url,
    large: false,
    cpuPids: [floor.child.pid],
  });

  if (nginxBin != null) {
    const front = await startNginx({
      nginxBin,
      prefix: join(workDir, "nginx-proxy"),
      render: ({ prefix, port }) => proxyConfig({ prefix, port, backendPort: backend.port }),
    });
    services.push({ child: front.child, stop: { signal: "SIGTERM" } });
    lanes.push({
      id: "nginx-proxy",
      label: "(d) nginx proxy_pass",
      url: front.url,
      large: true,
      cpuPids: childPids(front.child.pid),
    });
  }

  for (const lane of lanes) {
    lane.client = createLaneClient({ origin: lane.url, credentials: CLIENT });
    lane.small = [];
    lane.paced = [];
    lane.largeGet = [];
    lane.largePut = [];
    lane.rssRounds = [];
  }
  return lanes;
};

/**
 * One run of the small GET on a lane (`run` is `runSmallGets` or `runPacedSmallGets`), with the
 * lane's CPU µs per request; a failed GET ends the bench.
 */
const measureSmallGets = async (lane, what, run, options) => {
  const cpuBefore = cpuSeconds(lane.cpuPids);
  const result = await run(lane.client, {
    path: SMALL_PATH,
    expectedBytes: SMALL_BYTES,
    ...options,
  });
  result.cpuMicrosPerRequest = ((cpuSeconds(lane.cpuPids) - cpuBefore) * 1e6) / result.requests;
  if (result.failures > 0) {
    throw new Error(`${lane.label}: ${result.failures} failed ${what} (${result.firstFailure})`);
  }
  return result;
};

const runSmallPhase = async (lanes, startedAt) => {
  log(
    `\nsmall GET ${SMALL_BYTES} B: up to ${SMALL_ROUNDS} rounds × ${SMALL_REQUESTS} requests per lane, ${CONNECTIONS} connections`,
  );
  let roundMs = 0;
  for (let round = 0; round < SMALL_ROUNDS; round += 1) {
    const elapsedMs = Date.now() - startedAt;
    if (round >= 2 && elapsedMs + roundMs > BUDGET_MS * SMALL_PHASE_SHARE) {
      log(`  (stopping after ${round} rounds: time budget)`);
      break;
    }
    const roundStart = Date.now();
    const parts = [];
    for (const lane of rotate(lanes, round)) {
      const result = await measureSmallGets(lane, "small GETs", runSmallGets, {
        total: SMALL_REQUESTS,
        timeLimitMs: SMALL_LANE_LIMIT_MS,
      });
      lane.small[round] = result;
      parts.push(`${lane.id} ${formatNumber(result.requestsPerSecond)}/s`);
    }
    roundMs = Date.now() - roundStart;
    log(`  round ${round + 1}: ${parts.join(", ")}`);
  }
};

/**
 * The same small GET at one offered load for every compared lane: half (OSP_BENCH_PACED_SHARE)
 * of OSP's median saturated rate, below every lane's capacity, so that the latencies compare
 * what a request costs in time rather than how long the queue is. Returns the rate used.
 */
const runPacedPhase = async (lanes) => {
  const pacedLanes = lanes.filter((lane) => PACED_LANES.has(lane.id));
  const ospRate = median(
    lanes.find((lane) => lane.id === "osp").small.map((result) => result.requestsPerSecond),
  );
  const ratePerSecond = Math.max(100, Math.round((ospRate * PACED_SHARE) / 100) * 100);
  const total = Math.round(ratePerSecond * PACED_SECONDS);
  log(
    `\nsmall GET at equal load: ${ratePerSecond} req/s open loop (${PACED_SHARE} of OSP's saturated rate), ${PACED_ROUNDS} rounds × ${total} requests per lane`,
  );
  for (let round = 0; round < PACED_ROUNDS; round += 1) {
    const parts = [];
    for (const lane of rotate(pacedLanes, round)) {
      const result = await measureSmallGets(lane, "paced GETs", runPacedSmallGets, {
        ratePerSecond,
        total,
        timeLimitMs: PACED_SECONDS * 1000 * 3,
      });
      lane.paced[round] = result;
      parts.push(
        `${lane.id} p50 ${formatNumber(result.p50Ms, 2)} p99 ${formatNumber(result.p99Ms, 2)} ms ${formatNumber(result.cpuMicrosPerRequest)} µs CPU`,
      );
    }
    log(`  round ${round + 1}: ${parts.join(", ")}`);
  }
  return ratePerSecond;
};

/**
 * RSS of a Node lane at rest: a full GC in the child first, so garbage left by earlier phases
 * does not hide growth (the heap is collected lazily; an idle process may hold it for long).
 */
const settledRssBytes = async (lane) => {
  lane.child.send({ type: "gc" });
  await waitForMessage(lane.child, "gc-done", 5_000);
  await sleep(200);
  return rssBytes(lane.rssPid);
};

const runLargePhase = async (lanes, { startedAt, dataDir, block, backendStoresPuts }) => {
  const largeLanes = lanes.filter((lane) => lane.large);
  for (const lane of largeLanes) {
    if (lane.rssPid != null) lane.idleRssBytes = await settledRssBytes(lane);
  }
  log(`\n${toMiB(LARGE_BYTES)} MiB GET + PUT: up to ${LARGE_ROUNDS} rounds`);
  let roundMs = 0;
  for (let round = 0; round < LARGE_ROUNDS; round += 1) {
    let roundLanes = largeLanes;
    if (round >= 1 && Date.now() - startedAt + roundMs > BUDGET_MS) {
      if (round >= MIN_LARGE_ROUNDS) {
        log(`  (stopping after ${round} rounds: time budget)`);
        break;
      }
      // Behind time: the nginx lanes sit this round out; OSP and the pass-through still run it.
      roundLanes = largeLanes.filter((lane) => lane.rssPid != null);
      log(
        `  (time budget: round ${round + 1} runs ${roundLanes.map((lane) => lane.id).join(" and ")} only)`,
      );
    }
    const roundStart = Date.now();
    const parts = [];
    for (const lane of rotate(roundLanes, round)) {
      const idleBeforeBytes = lane.rssPid == null ? undefined : await settledRssBytes(lane);
      const get = await measureLargeTransfer(lane, () =>
        runLargeGet(lane.client, {
          path: LARGE_PATH,
          expectedBytes: LARGE_BYTES,
          timeoutMs: LARGE_TIMEOUT_MS,
        }),
      );
      const putPath = `/${BUCKET}/upload-${lane.id}.bin`;
      const put = await measureLargeTransfer(lane, () =>
        runLargePut(lane.client, {
          path: putPath,
          bytes: LARGE_BYTES,
          block,
          timeoutMs: LARGE_TIMEOUT_MS,
        }),
      );
      if (backendStoresPuts) {
        const storedBytes = statSync(join(dataDir, putPath)).size;
        if (storedBytes !== LARGE_BYTES) {
          throw new Error(
            `${lane.label}: backend stored ${storedBytes} of ${LARGE_BYTES} PUT bytes`,
          );
        }
        rmSync(join(dataDir, putPath), { force: true });
      }
      lane.largeGet[round] = get.result;
      lane.largePut[round] = put.result;
      if (lane.rssPid != null) {
        lane.rssRounds[round] = {
          idleBeforeBytes,
          peakGetBytes: get.peakRssBytes,
          peakPutBytes: put.peakRssBytes,
          peakBytes: Math.max(get.peakRssBytes, put.peakRssBytes),
          afterBytes: await settledRssBytes(lane),
        };
      }
      parts.push(
        `${lane.id} GET ${formatNumber(get.result.mbPerSecond)} PUT ${formatNumber(put.result.mbPerSecond)} MB/s`,
      );
    }
    roundMs = Date.now() - roundStart;
    log(`  round ${round + 1}: ${parts.join(", ")}`);
  }
};

/** Stops the profiled children (V8 writes the profile at exit) and summarises the profiles. */
const collectProfiles = async (services) => {
  const profiles = {};
  const print = (title, entries) => {
    log(title);
    for (const { name, percent } of entries) log(`  ${percent.toFixed(1).padStart(5)}%  ${name}`);
  };
  for (const service of services.filter((entry) => entry.profile != null)) {
    await stopChild(service.child, service.stop);
    const file = join(CPU_PROF_DIR, `${service.profile}.cpuprofile`);
    if (!existsSync(file)) continue;
    const profile = summariseCpuProfile(file, 20);
    profiles[service.profile] = { file, ...profile };
    log(`\n${service.profile} CPU profile (${file}): ${profile.busyMs.toFixed(0)} ms busy`);
    print("by owner (nearest project frame on the stack):", profile.owners);
    print("top frames by self time:", profile.topFrames);
  }
  return profiles;
};

const main = async () => {
  installCleanup();
  const startedAt = Date.now();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${(BUDGET_MS + 60_000) / 1000} s, aborting\n`);
    process.exit(1);
  }, BUDGET_MS + 60_000);
  watchdog.unref();

  const ospEntry = join(appDir, "dist", "index.js");
  if (!existsSync(ospEntry)) {
    throw new Error(
      `${ospEntry} is missing: build first (pnpm build, or npx tsup in apps/node-server)`,
    );
  }
  const nginxBin = findNginx();
  const environment = {
    node: process.version,
    nginx:
      nginxBin == null
        ? undefined
        : commandOutput(nginxBin, ["-v"])?.replace(/^nginx version: /, ""),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadAverageAtStart: loadavg()[0],
    commit: commandOutput("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"]),
  };
  log(
    `OSP proxy bench — node ${environment.node}, ${environment.cpus} CPUs, ${environment.nginx ?? "nginx not installed"}`,
  );
  if (environment.loadAverageAtStart > environment.cpus * 0.5) {
    log(
      `note: load average ${environment.loadAverageAtStart.toFixed(2)} at start: other work shares the CPUs; req/s and MB/s are noisy, the CPU-per-work columns much less so`,
    );
  }
  if (nginxBin == null) {
    log(
      "nginx is not installed: lanes (a) nginx direct and (d) nginx proxy_pass are SKIPPED and a",
    );
    log("small Node server is the backend. For the full comparison: apt-get install -y nginx");
  }

  const workDir = makeWorkDir();
  const dataDir = join(workDir, "data");
  log(`fixtures: ${SMALL_BYTES} B and ${toMiB(LARGE_BYTES)} MiB objects in ${workDir}`);
  const { small, block } = writeFixtures(dataDir);
  const backendStoresPuts = nginxBin != null;

  const services = [];
  let lanes = [];
  try {
    lanes = await startLanes({ nginxBin, workDir, dataDir, services });
    if (PIN_CPUS) {
      environment.pinned = pinCpus(lanes, services);
      log(`OSP_BENCH_PIN: ${environment.pinned}`);
    }
    for (const lane of lanes) await probeLane(lane, { small, dataDir, backendStoresPuts });
    log(
      `lanes: ${lanes.map((lane) => lane.label).join(", ")} — probed OK${backendStoresPuts ? " (GET bytes; PUT stored intact)" : " (GET bytes)"}`,
    );

    // Warm-up: connections open, JIT warm, OSP's caches filled.
    for (const lane of lanes) {
      await runSmallGets(lane.client, {
        path: SMALL_PATH,
        expectedBytes: SMALL_BYTES,
        total: SMALL_WARMUP_REQUESTS,
        timeLimitMs: 10_000,
      });
    }
    await runSmallPhase(lanes, startedAt);
    const pacedRatePerSecond = await runPacedPhase(lanes);
    await runLargePhase(lanes, { startedAt, dataDir, block, backendStoresPuts });

    const summary = summariseLanes(lanes);
    const ratios = computeRatios(lanes, summary);
    log("");
    log(renderReport(lanes, summary, ratios));

    environment.loadAverageAtEnd = loadavg()[0];
    const report = {
      generatedAt: new Date().toISOString(),
      durationSeconds: (Date.now() - startedAt) / 1000,
      environment,
      settings: {
        smallBytes: SMALL_BYTES,
        smallRequestsPerLaneAndRound: SMALL_REQUESTS,
        smallRounds: Math.max(...lanes.map((lane) => lane.small.length)),
        connections: CONNECTIONS,
        pacedRatePerSecond,
        pacedRequestsPerLaneAndRound: Math.round(pacedRatePerSecond * PACED_SECONDS),
        largeBytes: LARGE_BYTES,
        largeRounds: Math.max(...lanes.map((lane) => lane.largeGet.length)),
        ospLogLevel: OSP_LOG_LEVEL,
        backend:
          nginxBin == null
            ? "node (nginx not installed)"
            : "nginx, worker_processes 1; PUT stored by the DAV module on tmpfs (whole body read before the answer)",
        nginxProxy: "separate nginx, worker_processes 1, keep-alive upstream, no request buffering",
        skippedLanes: nginxBin == null ? ["nginx-direct", "nginx-proxy"] : [],
        units: {
          throughput: "MB/s = 10^6 bytes per second",
          latency: "ms",
          rss: "bytes",
          cpu: "CPU time of the lane's server process(es): µs per small GET, s per GiB",
        },
        ratios: "median over rounds of the per-round ratio",
      },
      lanes: summary,
      ratios: Object.fromEntries(
        ratios.map(({ id, label, ...ratio }) => [id, { label: label.trim(), ...ratio }]),
      ),
    };
    if (CPU_PROF_DIR != null) report.cpuProfiles = await collectProfiles(services);

    mkdirSync(dirname(resultsPath), { recursive: true });
    writeFileSync(resultsPath, `${JSON.stringify(report, null, 2)}\n`);
    log(`\nresults: ${resultsPath} (${report.durationSeconds.toFixed(0)} s)`);
  } finally {
    for (const lane of lanes) await lane.client?.close().catch(() => {});
    await Promise.all(services.map(({ child, stop }) => stopChild(child, stop)));
    rmSync(workDir, { recursive: true, force: true });
  }
};

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
