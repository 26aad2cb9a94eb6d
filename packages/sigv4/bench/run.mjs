// `pnpm bench`: runs every bench/*.bench.mjs in name order, in this process, after a build
// (turbo runs `build` first; this script builds nothing). Each bench file is a standalone ES
// module: importing it runs it. A bench file may instead export a default async function; it is
// then called with `{ sigv4, node }` (the built package entries). Not a test: it asserts nothing
// beyond the sanity checks each bench does before timing.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
for (const entry of ["index.js", "node.js"]) {
  if (!existsSync(join(here, "../dist", entry))) {
    console.error(
      `dist/${entry} is missing: build first (pnpm build, or npx tsup in packages/sigv4).`,
    );
    process.exit(1);
  }
}
const sigv4 = await import("../dist/index.js");
const node = await import("../dist/node.js");

const files = readdirSync(here)
  .filter((name) => name.endsWith(".bench.mjs"))
  .sort();
console.log(
  `@osp/sigv4 benchmarks (${files.join(", ")}), node ${process.version}, ${process.platform}/${process.arch}\n`,
);
for (const file of files) {
  console.log(`== ${file}`);
  const module = await import(pathToFileURL(join(here, file)).href);
  if (typeof module.default === "function") await module.default({ sigv4, node });
  console.log("");
}
