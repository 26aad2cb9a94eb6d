import type { Options } from "tsup";

/**
 * Shared tsup options: ESM-only, typed, source-mapped, for Node >= 20.19.
 * `OSP_BUILD_TYPES=0` skips the type declarations, which take most of the build time: `pnpm demo`
 * only needs runnable JavaScript (turbo keeps the two kinds of output apart in its cache).
 */
export const baseConfig = {
  format: ["esm"],
  dts: process.env.OSP_BUILD_TYPES !== "0",
  target: "node20",
  sourcemap: true,
  clean: true,
  treeshake: true,
  splitting: false,
} satisfies Options;
