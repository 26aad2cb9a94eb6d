import { defineConfig } from "tsup";
import { baseConfig } from "../../tsup.config.base.ts";

// src/main.ts starts with a `#!/usr/bin/env node` line; esbuild keeps it in dist/main.js.
export default defineConfig({ ...baseConfig, entry: ["src/main.ts"], platform: "node", dts: false });
