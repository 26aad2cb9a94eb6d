import { defineConfig } from "tsup";
import { baseConfig } from "../../tsup.config.base.ts";

// src/bin.ts starts with a `#!/usr/bin/env node` line; esbuild keeps it in dist/bin.js.
// bin.ts imports the package by name, so dist/bin.js shares dist/index.js's module state.
export default defineConfig({
  ...baseConfig,
  entry: ["src/index.ts", "src/bin.ts"],
  platform: "node",
  external: ["@osp/node-server"],
});
