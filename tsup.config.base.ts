import type { Options } from "tsup";

/** Shared tsup options: ESM-only, typed, source-mapped, for Node >= 20.19. */
export const baseConfig = {
  format: ["esm"],
  dts: true,
  target: "node20",
  sourcemap: true,
  clean: true,
  treeshake: true,
  splitting: false,
} satisfies Options;
