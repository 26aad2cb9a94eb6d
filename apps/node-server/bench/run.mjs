// OSP benchmark, not a test: lanes side by side on loopback.
//   (a) direct to the backend, (b) through OSP, (c) a minimal undici pass-through proxy (no
//   signing: the floor of any Node proxy), (d) nginx proxy_pass (when nginx is installed).
// Backend: nginx serving fixed objects (4 KiB, 1 GiB) when installed, else a Node server; PUT
// bodies go to a Node sink that reads them in full before answering.
// Measures: small GET with 64 connections (requests/s, p50, p99), 1 GiB GET and PUT (MB/s), and
// OSP's RSS (idle and peak over two rounds). Every role runs in its own process.
// Run after a build: `pnpm --filter @osp/node-server bench` (or `node bench/run.mjs`).
// Options (env): BENCH_SECONDS (default 5), BENCH_BIG_MIB (default 1024), BENCH_OSP_LOG_LEVEL (info).
import { spawn } from "node:child_process";
import {
  chmodSync,
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

const SELF = fileURLToPath(import.meta.url);
const SMALL_BYTES = 4096;
const BIG_BYTES = Number(process.env.BENCH_BIG_MIB ?? 1024) * 1024 * 1024;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 64;
const CLIENT = { accessKeyId: "BENCHCLIENT", secretAccessKey: "bench-client-secret" };
const BACKEND = { accessKeyId: "BENCHBACKEND", secretAccessKey: "bench-backend-secret" };
const CHUNK = Buffer.alloc(1024 * 1024, 0x61);

const arg = (name) =>
  process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);

// ---------------------------------------------------------------- child roles

/** A Node backend: GET /bench/small.bin, /bench/large.bin (generated), PUT /benchput/* (sink). */
const runBackend = async () => {
  const small = Buffer.alloc(SMALL_BYTES, 0x62);
  const server = createServer((req, res) => {
    if (req.method === "PUT") {
      let bytes = 0;
      req.on("data", (chunk) => (bytes += chunk.byteLength));
      req.on("end", () => {
        res.writeHead(200, { etag: '"bench"', "content-length": "0", "x-received": String(bytes) });
        res.end();
      });
      return;
    }
    req.resume();
    if (req.url?.startsWith("/bench/small.bin")) {
      res.writeHead(200, {
        "content-length": String(SMALL_BYTES),
        "content-type": "application/octet-stream",
      });
      res.end(small);
      return;
    }
    if (req.url?.startsWith("/bench/large.bin")) {
      res.writeHead(200, {
        "content-length": String(BIG_BYTES),
        "content-type": "application/octet-stream",
      });
      let sent = 0;
      const pump = () => {
        while (sent < BIG_BYTES) {
          const size = Math.min(CHUNK.byteLength, BIG_BYTES - sent);
          sent += size;
          if (!res.write(size === CHUNK.byteLength ? CHUNK : CHUNK.subarray(0, size)))
            return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(404, { "content-length": "0" });
    res.end();
  });
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`READY ${server.address().port}\n`);
};

/** The floor: an HTTP server forwarding with undici's dispatch API, no signing, no checks. */
const runPassthrough = async () => {
  const getPool = new Pool(`http://127.0.0.1:${arg("get-port")}`, {
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const putPool = new Pool(`http://127.0.0.1:${arg("put-port")}`, {
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const server = createServer((req, res) => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (name === "connection" || name === "keep-alive" || name === "expect") continue;
      headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const pool = req.url.startsWith("/benchput/") ? putPool : getPool;
    let resume;
    res.on("drain", () => resume?.());
    pool.dispatch(
      {
        path: req.url,
        method: req.method,
        headers,
        body: req.method === "GET" || req.method === "HEAD" ? null : req,
      },
      {
        onConnect() {},
        onHeaders(statusCode, rawHeaders, resumeUpstream) {
          resume = resumeUpstream;
          const out = [];
          for (let i = 0; i < rawHeaders.length; i += 2) {
            const name = rawHeaders[i].toString("latin1");
            if (/^(connection|keep-alive|transfer-encoding)$/i.test(name)) continue;
            out.push(name, rawHeaders[i + 1].toString("latin1"));
          }
          res.writeHead(statusCode, out);
          return true;
        },
        onData(chunk) {
          return res.write(chunk);
        },
        onComplete() {
          res.end();
        },
        onError() {
          res.destroy();
        },
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`READY ${server.address().port}\n`);
};

/** OSP from this package's build, buckets `bench` (GET backend) and `benchput` (PUT sink). */
const runOsp = async () => {
  const { startServer } = await import("../dist/index.js");
  const bucket = (port) => ({
    host: "127.0.0.1",
    port: Number(port),
    tls: false,
    addressingStyle: "path",
    accessKey: BACKEND.accessKeyId,
    secretKey: BACKEND.secretAccessKey,
  });
  const handle = await startServer({
    httpPort: 0,
    bindAddress: "127.0.0.1",
    dotenv: false,
    logLevel: process.env.BENCH_OSP_LOG_LEVEL ?? "info",
    // Log lines are part of the cost; they go to a file, as an operator's would.
    logDestination: { write: (line) => logFile.push(line) },
    cosMap: { bench: bucket(arg("get-port")), benchput: bucket(arg("put-port")) },
    hmacKeystore: [{ accessKey: CLIENT.accessKeyId, secretKey: CLIENT.secretAccessKey }],
  });
  process.stdout.write(`READY ${handle.http.port}\n`);
};
// A bounded in-memory sink with the cost of formatting but not of disk writes.
const logFile = {
  lines: 0,
  push() {
    this.lines += 1;
  },
};

/** Load: `CONNECTIONS` loops of GET for SECONDS seconds; prints requests/s, p50, p99 (ms). */
const runLoad = async () => {
  const url = new URL(arg("url"));
  const headers = JSON.parse(arg("headers") ?? "{}");
  const pool = new Pool(url.origin, { connections: CONNECTIONS, pipelining: 1 });
  let requests = 0;
  const run = async (durationMs, latencies) => {
    const endAt = performance.now() + durationMs;
    let errors = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < endAt) {
          const startedAt = performance.now();
          try {
            const { statusCode, body } = await pool.request({
              path: url.pathname + url.search,
              method: "GET",
              headers,
            });
            await body.dump({ limit: 1 << 20 });
            if (statusCode !== 200) errors += 1;
          } catch {
            errors += 1;
          }
          requests += 1;
          latencies?.push(performance.now() - startedAt);
        }
      }),
    );
    return errors;
  };
  await run(1000);
  const warmupRequests = requests;
  const latencies = [];
  const startedAt = performance.now();
  const errors = await run(SECONDS * 1000, latencies);
  const elapsedS = (performance.now() - startedAt) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  await pool.close();
  process.stdout.write(
    `${JSON.stringify({ rps: latencies.length / elapsedS, p50: at(0.5), p99: at(0.99), errors, requests: latencies.length, warmupRequests })}\n`,
  );
};

/** One large transfer: GET to nowhere or PUT of generated bytes; prints MB/s. */
const runBig = async () => {
  const url = new URL(arg("url"));
  const headers = JSON.parse(arg("headers") ?? "{}");
  const method = arg("method");
  const pool = new Pool(url.origin, {
    connections: 1,
    pipelining: 1,
    bodyTimeout: 600_000,
    headersTimeout: 600_000,
  });
  const startedAt = performance.now();
  let bytes = 0;
  let status = 0;
  if (method === "GET") {
    const { statusCode, body } = await pool.request({ path: url.pathname, method, headers });
    status = statusCode;
    for await (const chunk of body) bytes += chunk.byteLength;
  } else {
    async function* generate() {
      for (let sent = 0; sent < BIG_BYTES; sent += CHUNK.byteLength) yield CHUNK;
    }
    const { statusCode, body } = await pool.request({
      path: url.pathname,
      method,
      headers: { ...headers, "content-length": String(BIG_BYTES) },
      body: generate(),
    });
    status = statusCode;
    await body.dump();
    bytes = BIG_BYTES;
  }
  const seconds = (performance.now() - startedAt) / 1000;
  await pool.close();
  process.stdout.write(
    `${JSON.stringify({ status, bytes, mbPerSecond: bytes / 1e6 / seconds })}\n`,
  );
};

// ---------------------------------------------------------------- orchestration

const children = [];

const startChild = (role, extra = []) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, `--role=${role}`, ...extra], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    let text = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      text += chunk;
      const ready = /^READY (\d+)$/m.exec(text);
      if (ready) resolve({ child, port: Number(ready[1]) });
    });
    child.once("exit", (code) =>
      reject(new Error(`${role} exited with ${code} before it was ready`)),
    );
  });

const runChild = (role, extra) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, `--role=${role}`, ...extra], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (text += chunk));
    child.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(text.trim().split("\n").at(-1)))
        : reject(new Error(`${role} failed (${code})`)),
    );
  });

const rssBytes = (pid) => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
};

/** CPU time (user + system, ms) of a process and its direct children (nginx's workers). */
const cpuMs = (pid) => {
  const ticksOf = (id) => {
    try {
      const fields = readFileSync(`/proc/${id}/stat`, "utf8").split(") ")[1].split(" ");
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  } catch {
    // no children list: count the process alone
  }
  // Linux reports clock ticks of 10 ms (USER_HZ = 100) on every common configuration.
  return [pid, ...children].reduce((sum, id) => sum + ticksOf(id), 0) * 10;
};

const hasNginx = () =>
  new Promise((resolve) => {
    const probe = spawn("nginx", ["-v"], { stdio: "ignore" });
    probe.on("error", () => resolve(false));
    probe.on("exit", (code) => resolve(code === 0));
  });

/** nginx as our own child: a file server on one port and a proxy on another. */
const startNginx = async (dir, putPort) => {
  const free = async () => {
    const server = createServer();
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    return port;
  };
  const filesPort = await free();
  const proxyPort = await free();
  const config = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  server { listen 127.0.0.1:${filesPort}; root ${dir}/www; }
  upstream files { server 127.0.0.1:${filesPort}; keepalive 128; }
  upstream sink { server 127.0.0.1:${putPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${proxyPort};
    client_max_body_size 0;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_request_buffering off;
    proxy_buffering off;
    location /benchput/ { proxy_pass http://sink; }
    location / { proxy_pass http://files; }
  }
}`;
  writeFileSync(join(dir, "nginx.conf"), config);
  const child = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  for (let i = 0; i < 100; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      const response = await fetch(`http://127.0.0.1:${filesPort}/bench/small.bin`);
      await response.arrayBuffer();
      if (response.status === 200) return { filesPort, proxyPort, pid: child.pid };
    } catch {
      // not up yet
    }
  }
  throw new Error(`nginx did not start; see ${dir}/error.log`);
};

const signedHeaders = async (host, path, method) => {
  const { signRequest } = await import("@osp/sigv4");
  const signed = signRequest(
    { method, path, query: "", headers: [["host", host]] },
    { credentials: CLIENT, region: "us-east-1", now: Date.now(), payloadHash: "UNSIGNED-PAYLOAD" },
  );
  return Object.fromEntries(signed.headers.filter(([name]) => name.toLowerCase() !== "host"));
};

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "osp-bench-"));
  // nginx workers run as an unprivileged user when started by root: they must read the files.
  chmodSync(dir, 0o755);
  try {
    const sink = await startChild("backend");
    let getPort = sink.port;
    let nginx;
    if (await hasNginx()) {
      const www = join(dir, "www", "bench");
      mkdirSync(www, { recursive: true });
      writeFileSync(join(www, "small.bin"), Buffer.alloc(SMALL_BYTES, 0x62));
      const fd = openSync(join(www, "large.bin"), "w");
      ftruncateSync(fd, BIG_BYTES); // sparse: served from the page cache
      closeSync(fd);
      nginx = await startNginx(dir, sink.port);
      getPort = nginx.filesPort;
    } else {
      console.log(
        "nginx not installed (apt-get install -y nginx): Node backend, no nginx proxy lane",
      );
    }
    const osp = await startChild("osp", [`--get-port=${getPort}`, `--put-port=${sink.port}`]);
    const passthrough = await startChild("passthrough", [
      `--get-port=${getPort}`,
      `--put-port=${sink.port}`,
    ]);

    const lanes = [
      { name: "direct", getPort, putPort: sink.port, sign: false },
      { name: "osp", getPort: osp.port, putPort: osp.port, sign: true, pid: osp.child.pid },
      {
        name: "undici-passthrough",
        getPort: passthrough.port,
        putPort: passthrough.port,
        sign: false,
        pid: passthrough.child.pid,
      },
      ...(nginx
        ? [
            {
              name: "nginx-proxy",
              getPort: nginx.proxyPort,
              putPort: nginx.proxyPort,
              sign: false,
              pid: nginx.pid,
            },
          ]
        : []),
    ];
    const headersFor = async (lane, port, path, method) =>
      JSON.stringify(lane.sign ? await signedHeaders(`127.0.0.1:${port}`, path, method) : {});

    const results = {};
    const ospIdleRss = rssBytes(osp.child.pid);
    for (const lane of lanes) {
      const url = `http://127.0.0.1:${lane.getPort}/bench/small.bin`;
      const cpuBefore = lane.pid != null ? cpuMs(lane.pid) : 0;
      const small = await runChild("load", [
        `--url=${url}`,
        `--headers=${await headersFor(lane, lane.getPort, "/bench/small.bin", "GET")}`,
      ]);
      // Proxy CPU per request (warm-up included): robust on a busy machine, unlike req/s.
      if (lane.pid != null) {
        small.proxyCpuMsPerRequest =
          (cpuMs(lane.pid) - cpuBefore) / (small.requests + small.warmupRequests);
      }
      results[lane.name] = { small };
      console.log(
        `${lane.name.padEnd(20)} small GET: ${small.rps.toFixed(0)} req/s, p50 ${small.p50.toFixed(2)} ms, p99 ${small.p99.toFixed(2)} ms, errors ${small.errors}` +
          (lane.pid != null
            ? `, proxy CPU ${small.proxyCpuMsPerRequest.toFixed(3)} ms/request`
            : ""),
      );
    }
    const ospPeaks = [];
    for (const lane of lanes) {
      const rounds = lane.name === "osp" ? 2 : 1;
      for (let round = 0; round < rounds; round += 1) {
        let peak = 0;
        const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(osp.child.pid))), 50);
        const get = await runChild("big", [
          `--url=http://127.0.0.1:${lane.getPort}/bench/large.bin`,
          "--method=GET",
          `--headers=${await headersFor(lane, lane.getPort, "/bench/large.bin", "GET")}`,
        ]);
        const put = await runChild("big", [
          `--url=http://127.0.0.1:${lane.putPort}/benchput/upload.bin`,
          "--method=PUT",
          `--headers=${await headersFor(lane, lane.putPort, "/benchput/upload.bin", "PUT")}`,
        ]);
        clearInterval(sampler);
        if (lane.name === "osp") ospPeaks.push(peak);
        results[lane.name].bigGet = get;
        results[lane.name].bigPut = put;
        console.log(
          `${lane.name.padEnd(20)} ${BIG_BYTES / 2 ** 20} MiB GET: ${get.mbPerSecond.toFixed(0)} MB/s (status ${get.status}), PUT: ${put.mbPerSecond.toFixed(0)} MB/s (status ${put.status})` +
            (lane.name === "osp"
              ? `, OSP peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (idle ${(ospIdleRss / 2 ** 20).toFixed(0)} MiB)`
              : ""),
        );
      }
    }

    const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : "n/a");
    const floor = results["undici-passthrough"];
    const ospLane = results.osp;
    console.log("\nratios");
    console.log(
      `  OSP / undici pass-through, small GET req/s: ${ratio(ospLane.small.rps, floor.small.rps)} (aim >= 0.8)`,
    );
    console.log(
      `  OSP / undici pass-through, small GET p99:   ${ratio(ospLane.small.p99, floor.small.p99)} (aim <= 1.3)`,
    );
    console.log(
      `  OSP / undici pass-through, 1 GiB GET MB/s:  ${ratio(ospLane.bigGet.mbPerSecond, floor.bigGet.mbPerSecond)} (aim >= 0.9)`,
    );
    console.log(
      `  OSP / undici pass-through, 1 GiB PUT MB/s:  ${ratio(ospLane.bigPut.mbPerSecond, floor.bigPut.mbPerSecond)} (aim >= 0.9)`,
    );
    console.log(
      `  OSP / undici pass-through, CPU per small GET: ${ratio(ospLane.small.proxyCpuMsPerRequest, floor.small.proxyCpuMsPerRequest)} (its inverse is the req/s ratio on an idle machine)`,
    );
    console.log(
      `  OSP peak - idle RSS per round: ${ospPeaks.map((peak) => `${((peak - ospIdleRss) / 2 ** 20).toFixed(0)} MiB`).join(", ")} (aim <= 64 MiB, flat)`,
    );
    if (results["nginx-proxy"]) {
      console.log(
        `  nginx proxy / direct, small GET req/s:      ${ratio(results["nginx-proxy"].small.rps, results.direct.small.rps)}`,
      );
      console.log(
        `  undici pass-through / nginx proxy, req/s:   ${ratio(floor.small.rps, results["nginx-proxy"].small.rps)}`,
      );
    }
    console.log(`\n${JSON.stringify({ results, ospIdleRss, ospPeaks })}`);
  } finally {
    for (const child of children) if (child.exitCode == null) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
};

const role = arg("role");
const roles = {
  backend: runBackend,
  passthrough: runPassthrough,
  osp: runOsp,
  load: runLoad,
  big: runBig,
};
if (role != null) {
  await roles[role]();
  if (role === "load" || role === "big") process.exit(0);
} else {
  await main();
}
