import { defineConfig } from "tsup";
import { baseConfig } from "../../tsup.config.base.ts";

// src/main.ts starts with a `#!/usr/bin/env node` line; esbuild keeps it in dist/main.js.
// dist/config-schema.js feeds scripts/gen-schema.mjs, which rewrites config-schema.json after
// every build so the shipped JSON Schema follows the zod schema.
export default defineConfig({
  ...baseConfig,
  entry: ["src/main.ts", "src/config-schema.ts"],
  platform: "node",
  dts: false,
  // One chunk per command: `osp keys new` does not load the server, pino or undici.
  splitting: true,
  onSuccess: "node scripts/gen-schema.mjs",
});
