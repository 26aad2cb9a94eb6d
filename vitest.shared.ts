import { defineProject } from "vitest/config";

// "@osp/source" makes workspace packages resolve to src/, so tests need no build.
// Vitest 4 needs it under ssr.resolve for the node environment.
const base = { ssr: { resolve: { conditions: ["@osp/source"] } } };

/** Three lanes per package: unit (default), -int (loopback servers), -e2e (real backends). */
export const sharedProjects = (name: string) => [
  defineProject({
    ...base,
    test: {
      name,
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      exclude: ["**/*.int.test.ts", "**/*.e2e.test.ts", "**/node_modules/**"],
    },
  }),
  defineProject({
    ...base,
    test: {
      name: `${name}-int`,
      include: ["src/**/*.int.test.ts", "test/**/*.int.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }),
  defineProject({
    ...base,
    test: {
      name: `${name}-e2e`,
      include: ["test/**/*.e2e.test.ts"],
      testTimeout: 300_000,
      hookTimeout: 300_000,
      fileParallelism: false,
    },
  }),
];

export const sharedProject = (name: string) => sharedProjects(name)[0]!;
