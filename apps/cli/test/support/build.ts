// Builds the `osp` binary (and the workspace packages it runs) once per change, however many
// test files ask: a lock directory serialises the builds, and a fingerprint of every source file
// involved lets later callers skip the build while nothing changed.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const CLI_DIR = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const REPO_DIR = resolve(CLI_DIR, "../..");
export const CLI_BIN = join(CLI_DIR, "dist", "main.js");

const LOCK_DIR = join(CLI_DIR, "node_modules", ".osp-cli-build.lock");
const STAMP_FILE = join(CLI_DIR, "node_modules", ".osp-cli-build.stamp");
const STALE_LOCK_MS = 10 * 60_000;

/** The workspace directories `@osp/cli` runs from: itself and every `@osp/*` dependency, transitively. */
const workspaceDirs = (): string[] => {
  const byName = new Map<string, string>();
  for (const group of ["packages", "apps"]) {
    const groupDir = join(REPO_DIR, group);
    for (const entry of readdirSync(groupDir)) {
      const manifest = join(groupDir, entry, "package.json");
      if (existsSync(manifest))
        byName.set(
          (JSON.parse(readFileSync(manifest, "utf8")) as { name: string }).name,
          join(groupDir, entry),
        );
    }
  }
  const seen = new Set<string>();
  const visit = (name: string): void => {
    const dir = byName.get(name);
    if (dir == null || seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency);
  };
  visit("@osp/cli");
  return [...seen];
};

const fingerprint = (): string => {
  const hash = createHash("sha256");
  const walk = (path: string): void => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    } else {
      hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
    }
  };
  for (const dir of workspaceDirs()) {
    for (const part of ["src", "package.json", "tsup.config.ts", "dist"]) walk(join(dir, part));
  }
  return hash.digest("hex");
};

const acquireLock = async (): Promise<void> => {
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      return;
    } catch {
      try {
        if (Date.now() - statSync(LOCK_DIR).mtimeMs > STALE_LOCK_MS)
          rmSync(LOCK_DIR, { recursive: true, force: true });
      } catch {
        // The holder just released it.
      }
      await sleep(250);
    }
  }
};

/** Ensures dist/main.js is current; builds through turbo (cached) when a source changed. */
export const ensureBuilt = async (): Promise<void> => {
  await acquireLock();
  try {
    if (
      existsSync(CLI_BIN) &&
      existsSync(STAMP_FILE) &&
      readFileSync(STAMP_FILE, "utf8") === fingerprint()
    )
      return;
    const build = spawnSync(
      "npx",
      [
        "--yes",
        "pnpm@12.4.2",
        "exec",
        "turbo",
        "run",
        "build",
        "--filter=@osp/cli...",
        "--output-logs=errors-only",
      ],
      { cwd: REPO_DIR, encoding: "utf8", timeout: 280_000 },
    );
    if (build.status !== 0) {
      throw new Error(
        `building @osp/cli failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`,
      );
    }
    writeFileSync(STAMP_FILE, fingerprint());
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
};

/** Timeout for the beforeAll that builds (a cold turbo build of the chain takes a few minutes). */
export const BUILD_TIMEOUT_MS = 300_000;
