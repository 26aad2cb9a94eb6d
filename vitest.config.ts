import { existsSync, readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { sharedProjects } from "./vitest.shared.ts";

// One vitest process for the whole repository: faster on 2 cores than one per package.
const packageDirs = ["packages", "apps"].flatMap((group) =>
  existsSync(group)
    ? readdirSync(group)
        .filter((dir) => existsSync(`${group}/${dir}/package.json`))
        .map((dir) => ({ name: dir, root: `${group}/${dir}` }))
    : [],
);

export default defineConfig({
  test: {
    projects: packageDirs.flatMap(({ name, root }) =>
      sharedProjects(name).map((project) => ({ ...project, root })),
    ),
  },
});
