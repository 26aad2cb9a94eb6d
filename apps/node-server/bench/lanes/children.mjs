// Child processes and temp directories of one bench run, and their cleanup: every child is
// registered here and killed by pid (never by name) when the run ends, fails or is interrupted.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";

/** @type {Set<import("node:child_process").ChildProcess>} */
const children = new Set();
/** @type {Set<string>} */
const tempDirs = new Set();
let cleanupInstalled = false;

const killAllSync = () => {
  for (const child of children) {
    if (child.exitCode == null && child.signalCode == null) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
};

/** Makes sure children and temp dirs go away on exit, Ctrl-C, SIGTERM and crashes. */
export const installCleanup = () => {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", killAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      killAllSync();
      process.exit(130);
    });
  }
};

/** Registers a directory to delete at the end of the run. */
export const trackTempDir = (dir) => {
  tempDirs.add(dir);
  return dir;
};

/** Spawns a tracked child; its stderr is kept (last 8 KiB) for error messages. */
export const spawnTracked = (command, args, options = {}) => {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], ...options });
  children.add(child);
  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (text) => {
    stderrTail = (stderrTail + text).slice(-8192);
  });
  child.stderrTail = () => stderrTail;
  child.once("exit", () => children.delete(child));
  return child;
};

/** Stops a child: `gracefully(child)` first (IPC message or signal), SIGKILL after `timeoutMs`. */
export const stopChild = async (child, { signal = "SIGTERM", message, timeoutMs = 5_000 } = {}) => {
  if (child.exitCode != null || child.signalCode != null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    if (message != null && child.connected) child.send(message);
    else child.kill(signal);
  } catch {
    child.kill(signal);
  }
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  if ((await Promise.race([exited, timedOut])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
  clearTimeout(timer);
};

/** A TCP port that was free a moment ago (nginx needs a fixed port in its configuration). */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Waits for the first IPC message of `type` from a child, or its early exit. */
export const waitForMessage = (child, type, timeoutMs = 15_000) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`child did not report "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message) => {
      if (message?.type === "error") {
        cleanup();
        reject(new Error(`child failed: ${message.message}`));
      } else if (message?.type === type) {
        cleanup();
        resolve(message);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(
        new Error(`child exited (${signal ?? code}) before "${type}": ${child.stderrTail?.()}`),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });

const statusField = (pid, field) => {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match == null ? Number.NaN : Number(match[1]) * 1024;
};

/** Resident set size of a process in bytes (Linux /proc). */
export const rssBytes = (pid) => statusField(pid, "VmRSS");

/** Peak resident set size since start or the last {@link resetPeakRss} (Linux VmHWM). */
export const peakRssBytes = (pid) => statusField(pid, "VmHWM");

/**
 * Resets the kernel's peak-RSS mark of a process we own (`echo 5 > /proc/pid/clear_refs`).
 * Returns false where that is not permitted; the caller then relies on polling.
 */
export const resetPeakRss = (pid) => {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
};

/** Samples VmRSS every `intervalMs` until stopped; returns the highest sample. */
export const startRssSampler = (pid, intervalMs = 50) => {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // process gone
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
};

let clockTicksPerSecond;
const clockTicks = () => {
  if (clockTicksPerSecond == null) {
    const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    const value = Number(result.stdout?.trim());
    clockTicksPerSecond = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return clockTicksPerSecond;
};

/**
 * CPU time (user + system) consumed so far by the processes `pids`, in seconds (Linux
 * /proc/<pid>/stat; a process that is gone counts 0). Unlike requests/s this barely depends on
 * what else runs on the machine, so it is the steadier measure of a proxy's cost.
 */
export const cpuSeconds = (pids) => {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name, which may itself hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / clockTicks();
};

/** Direct children of a process (nginx workers of a master). */
export const childPids = (pid) => {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    if (text !== "") return text.split(/\s+/).map(Number);
  } catch {
    // kernel without CONFIG_PROC_CHILDREN: scan
  }
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
};
