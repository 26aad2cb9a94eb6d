#!/usr/bin/env node
// Writes apps/cli/config-schema.json (the JSON Schema editors use for osp.config.json/.yaml) from
// the zod schema in src/config/schema.ts, through the built dist/config-schema.js.
//   node scripts/gen-schema.mjs           write the file (run by the build)
//   node scripts/gen-schema.mjs --check   exit 1 when the file is not current
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/config-schema.js", import.meta.url);
const target = fileURLToPath(new URL("../config-schema.json", import.meta.url));
if (!existsSync(built)) {
  console.error("gen-schema: dist/config-schema.js is missing; run `npx tsup` in apps/cli first");
  process.exit(1);
}
const { configJsonSchema } = await import(built.href);
const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
if (process.argv.includes("--check")) {
  const current = existsSync(target) ? JSON.parse(readFileSync(target, "utf8")) : undefined;
  if (JSON.stringify(current) !== JSON.stringify(JSON.parse(text))) {
    console.error(
      "gen-schema: config-schema.json is not current; run `node scripts/gen-schema.mjs`",
    );
    process.exit(1);
  }
  console.log("gen-schema: config-schema.json is current");
} else {
  writeFileSync(target, text);
  // Formatted as the repository formats JSON, so that `oxfmt --check` passes after a build.
  const oxfmt = fileURLToPath(new URL("../../../node_modules/.bin/oxfmt", import.meta.url));
  if (existsSync(oxfmt)) spawnSync(oxfmt, [target], { stdio: "ignore" });
  console.log("gen-schema: wrote config-schema.json");
}
