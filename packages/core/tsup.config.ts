import { defineConfig } from "tsup";
import { baseConfig } from "../../tsup.config.base.ts";

export default defineConfig({
  ...baseConfig,
  entry: ["src/index.ts", "src/testing/index.ts"],
  platform: "neutral",
  // The core itself uses only web globals; the testing entry runs under vitest on Node and
  // imports node: built-ins, which stay imports (never bundled, `node:` kept).
  removeNodeProtocol: false,
  external: [/^node:/],
});
