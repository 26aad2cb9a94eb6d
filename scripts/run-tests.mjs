#!/usr/bin/env node
// Runs the whole vitest suite once and closes with the plain line CI reads:
// "N passed, N failed, N skipped". Vitest's own summary is not read by CI.
//
//   node scripts/run-tests.mjs            unit + loopback (-int) lanes
//   node scripts/run-tests.mjs --e2e      also the real-backend (-e2e) lanes
//   node scripts/run-tests.mjs --only-e2e only the real-backend lanes
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const withE2e = args.includes("--e2e") || process.env.OSP_E2E === "1";
const onlyE2e = args.includes("--only-e2e");
const passThrough = args.filter((a) => !a.startsWith("--e2e") && a !== "--only-e2e");

const resultsDir = ".test-results";
const jsonFile = join(resultsDir, "vitest.json");
mkdirSync(resultsDir, { recursive: true });
rmSync(jsonFile, { force: true });

const projectFilter = onlyE2e ? ["--project", "*-e2e"] : withE2e ? [] : ["--project", "!*-e2e"];
const vitestBin = join("node_modules", ".bin", "vitest");
const run = spawnSync(
  vitestBin,
  [
    "run",
    ...projectFilter,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${jsonFile}`,
    ...passThrough,
  ],
  { stdio: "inherit" },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(jsonFile, "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A file that fails to load has no tests but is a failure all the same.
  for (const file of report.testResults ?? []) {
    if (file.status === "failed" && (file.assertionResults ?? []).length === 0) failed += 1;
  }
} catch {
  failed = Math.max(failed, 1);
}
if (run.status !== 0 && failed === 0) failed = 1;
if (passed === 0 && failed === 0) failed = 1; // running no test is a failure, not a success

console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
