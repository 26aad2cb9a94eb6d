import { fileURLToPath } from "node:url";

/** The repository root (this file is apps/node-server/test/e2e/support/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));

/** Where the lane writes its reports (git-ignored). */
export const TEST_RESULTS_DIR = `${REPO_ROOT}.test-results`;
