#!/usr/bin/env node
// Layer rules that a linter cannot express on its own:
//  - pure packages import no `node:` module, no Node builtin and no network library;
//  - every bare import in src/ is declared in the package's own package.json;
//  - packages never import apps, and a package imports only lower layers.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";

const PURE = new Set(["@osp/sigv4", "@osp/creds-cache"]);
const FORBIDDEN_IN_PURE = ["undici", "node-fetch", "pino"];
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

const workspaces = ["packages", "apps"].flatMap((group) =>
  existsSync(group)
    ? readdirSync(group)
        .map((dir) => join(group, dir))
        .filter((dir) => existsSync(join(dir, "package.json")))
    : [],
);

const walk = (dir) =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return walk(path);
    return /\.(m|c)?tsx?$/.test(entry) && !entry.endsWith(".test.ts") ? [path] : [];
  });

const importPattern =
  /(?:^|\n)\s*(?:import|export)[^'"`]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
const problems = [];
const appNames = new Set();
for (const dir of workspaces) {
  if (dir.startsWith("apps"))
    appNames.add(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name);
}

for (const dir of workspaces) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
    pkg.name,
  ]);
  const srcDir = join(dir, "src");
  if (!existsSync(srcDir)) continue;
  for (const file of walk(srcDir)) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1] ?? match[2];
      if (!spec || spec.startsWith(".") || spec.startsWith("#")) continue;
      const isBuiltin = builtins.has(spec) || spec.startsWith("node:");
      const bare = spec.startsWith("@")
        ? spec.split("/").slice(0, 2).join("/")
        : spec.split("/")[0];
      if (PURE.has(pkg.name) && (isBuiltin || FORBIDDEN_IN_PURE.includes(bare))) {
        // The node subpath of sigv4 is the one deliberate exception: it is a separate entry.
        if (!(pkg.name === "@osp/sigv4" && file.endsWith(join("src", "node.ts")))) {
          problems.push(`${file}: pure package ${pkg.name} imports "${spec}"`);
        }
      }
      if (isBuiltin) continue;
      if (!declared.has(bare))
        problems.push(`${file}: "${bare}" is not declared in ${dir}/package.json`);
      if (dir.startsWith("packages") && appNames.has(bare))
        problems.push(`${file}: a package imports the app ${bare}`);
    }
  }
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`check-deps: ${workspaces.length} workspaces clean`);
