// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, self time per
// package, and "owners": each sample charged to the nearest project frame on its stack (an
// @osp/* package, pino, the bench's own lane code), with write syscalls and GC kept apart.
// Caveat: the profiler samples wall time, so a process preempted inside a write syscall (a
// loopback write wakes the reader) has that wait charged to the syscall frame; on a busy machine
// the syscall share is inflated. The CPU columns of the bench are the steadier measure.
// CLI: `node cpu-profile.mjs <file.cpuprofile> [topFrames]`.
import { readFileSync } from "node:fs";

const SYSCALL_FRAMES = new Set([
  "writev",
  "writeBuffer",
  "writeLatin1String",
  "writeString",
  "writeUtf8String",
]);

/** The project code a frame belongs to, or undefined for node, undici and V8. */
const ownerOf = (url) => {
  const osp = /\/(packages|apps)\/([^/]+)\/dist\//.exec(url);
  if (osp != null) return `@osp/${osp[2]}`;
  if (
    /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(pino|sonic-boom|quick-format-unescaped)\//.test(
      url,
    )
  ) {
    return "pino (logging)";
  }
  if (url.includes("/bench/lanes/")) return "bench lane code";
  return undefined;
};

const packageOf = (url) => {
  if (url === "") return "(native/V8)";
  if (url.startsWith("node:")) return "node internals";
  const osp = /\/(packages|apps)\/([^/]+)\/dist\//.exec(url);
  if (osp != null) return `@osp/${osp[2]}`;
  const module = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module != null) return module[1];
  return url.replace(/^file:\/\//, "");
};

/** Reads `path` and returns busy time, top frames by self time, and the package/owner splits. */
export const summariseCpuProfile = (path, limit = 20) => {
  const profile = JSON.parse(readFileSync(path, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  const selfMicros = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let index = 0; index < profile.samples.length; index += 1) {
    const id = profile.samples[index];
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (deltas[index] ?? 0));
  }
  // Idle time says nothing about the proxy's cost: shares are of the busy time.
  for (const [id] of selfMicros) {
    if (byId.get(id).callFrame.functionName === "(idle)") selfMicros.delete(id);
  }
  const totalMicros = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);

  const ownerKey = (id) => {
    const leaf = byId.get(id).callFrame;
    if (SYSCALL_FRAMES.has(leaf.functionName)) return `write syscalls (${leaf.functionName})`;
    if (leaf.functionName === "(garbage collector)") return "GC";
    for (let current = id; current != null; current = parentOf.get(current)) {
      const owner = ownerOf(byId.get(current).callFrame.url);
      if (owner != null) return `${owner}, incl. what it calls`;
    }
    return "node/undici/V8, no project frame on the stack";
  };

  const frames = new Map();
  const packages = new Map();
  const owners = new Map();
  const add = (map, key, micros) => map.set(key, (map.get(key) ?? 0) + micros);
  for (const [id, micros] of selfMicros) {
    const { callFrame } = byId.get(id);
    const file = callFrame.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, "");
    add(
      frames,
      `${callFrame.functionName || "(anonymous)"} ${file}:${callFrame.lineNumber + 1}`,
      micros,
    );
    add(packages, packageOf(callFrame.url), micros);
    add(owners, ownerKey(id), micros);
  }
  const share = (entries) =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .map(([name, micros]) => ({ name, percent: (100 * micros) / totalMicros }));
  return {
    busyMs: totalMicros / 1000,
    owners: share(owners),
    packages: share(packages).slice(0, 12),
    topFrames: share(frames).slice(0, limit),
  };
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const summary = summariseCpuProfile(process.argv[2], Number(process.argv[3] ?? 25));
  const print = (title, entries) => {
    console.log(title);
    for (const { name, percent } of entries)
      console.log(`  ${percent.toFixed(1).padStart(5)}%  ${name}`);
  };
  console.log(`${summary.busyMs.toFixed(0)} ms busy (idle excluded)`);
  print("by owner (nearest project frame):", summary.owners);
  print("self time by package:", summary.packages);
  print("top frames by self time:", summary.topFrames);
}
