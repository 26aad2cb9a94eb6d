import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The package promises to run anywhere (browsers, workers, Deno, Bun) and to keep no process
// alive, so its shipped sources may use neither Node APIs nor timers.
const sourceDir = new URL("../src/", import.meta.url);
const shippedSources = readdirSync(sourceDir)
  .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
  .map((name) => ({ name, text: readFileSync(new URL(name, sourceDir), "utf8") }));

const forbidden: [string, RegExp][] = [
  ["a node: import", /from\s+["']node:/],
  ["a bare import (runtime dependency)", /from\s+["'](?![./])/],
  ["the Node global process", /\bprocess\./],
  ["the Node global Buffer", /\bBuffer\b/],
  ["a timer", /\b(setTimeout|setInterval|setImmediate)\s*\(/],
];

describe("package purity", () => {
  it("finds the shipped sources", () => {
    expect(shippedSources.map((source) => source.name)).toContain("creds-cache.ts");
  });

  it.each(forbidden)("ships no source with %s", (_what, pattern) => {
    const offenders = shippedSources
      .filter((source) => pattern.test(source.text))
      .map((source) => source.name);
    expect(offenders).toEqual([]);
  });
});
