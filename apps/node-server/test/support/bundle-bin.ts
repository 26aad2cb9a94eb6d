// Bundles src/bin.ts (and the workspace packages it imports, from source) into one ESM file
// that a plain `node` child process can run: the cluster and bin tests start real processes.
// esbuild is tsup's own dependency; pino and undici stay external and resolve from this package.
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Bundles `entry` (default src/bin.ts); returns the path of the .mjs file. */
export const bundleBin = async (entry = join(packageRoot, "src", "bin.ts")): Promise<string> => {
  const require = createRequire(import.meta.url);
  const esbuild = createRequire(require.resolve("tsup"))("esbuild") as Esbuild;
  // Inside this package's node_modules so that "pino" and "undici" resolve from the bundle.
  const outdir = mkdtempSync(join(packageRoot, "node_modules", ".osp-test-bin-"));
  const outfile = join(outdir, "bin.mjs");
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@osp/source"],
    external: ["pino", "undici"],
    // Bundled CommonJS code may call require().
    banner: {
      js: 'import { createRequire as __ospCreateRequire } from "node:module"; const require = __ospCreateRequire(import.meta.url);',
    },
    logLevel: "silent",
  });
  return outfile;
};
