// The binary's surface: help and version, keys new, and configuration errors (exit 2, one line
// per problem naming the field).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_TIMEOUT_MS, ensureBuilt } from "./support/build.ts";
import { tempDir } from "./support/fixtures.ts";
import { killAllCli, runCliProcess } from "./support/process.ts";

const dir = tempDir();
beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);
afterAll(() => {
  killAllCli();
  dir.remove();
});

describe("osp (binary)", () => {
  it("prints help for every command and the version", async () => {
    const main = await runCliProcess(["--help"]);
    expect(main.code).toBe(0);
    for (const command of ["demo", "serve", "check", "presign", "verify", "keys"]) {
      expect(main.stdout).toMatch(new RegExp(`^  ${command} +\\S`, "m"));
      const help = await runCliProcess([command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: osp ${command}`));
      expect(help.stdout).toContain("Exit codes");
    }
    const version = await runCliProcess(["--version"]);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });

  it("exits with 2 on an unknown command or option", async () => {
    const command = await runCliProcess(["frobnicate"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "frobnicate"');
    const option = await runCliProcess(["keys", "new", "--frob"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("(see osp keys --help)");
  });

  it("generates strong, well-formed key pairs", async () => {
    const first = await runCliProcess(["keys", "new", "--json"]);
    const second = await runCliProcess(["keys", "new", "--json"]);
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as { accessKeyId: string; secretAccessKey: string };
    const b = JSON.parse(second.stdout) as { accessKeyId: string; secretAccessKey: string };
    for (const pair of [a, b]) {
      expect(pair.accessKeyId).toMatch(/^OSP[A-Z0-9]{17}$/);
      expect(pair.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    }
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    expect(a.secretAccessKey).not.toBe(b.secretAccessKey);
    const env = await runCliProcess(["keys", "new", "--env", "CLIENT7"]);
    expect(env.stdout).toMatch(
      /^CLIENT7_ACCESS_KEY=OSP[A-Z0-9]{17}\nCLIENT7_SECRET_KEY=[A-Za-z0-9+/]{40}\n$/,
    );
  });
});

describe("invalid configuration", () => {
  it("exits with 2 and prints one line per problem, naming the field", async () => {
    writeFileSync(
      join(dir.path, "bad.json"),
      JSON.stringify({
        httpPort: 70000,
        cosMap: {
          ok: { host: "s3.example.com", accessKey: "a", secretKey: "b" },
          broken: { hots: "s3.example.com", port: "abc", addressingStyle: "sideways" },
        },
        validator: { webhook: { url: "ftp://nope" } },
        threadz: 2,
      }),
    );
    for (const command of ["serve", "check"]) {
      const result = await runCliProcess([command, "--config", "bad.json"], { cwd: dir.path });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr.trimEnd().split("\n").sort()).toEqual(
        [
          "bad.json: httpPort: must be an integer from 0 to 65535 (got 70000)",
          'bad.json: cosMap["broken"].host: is required',
          'bad.json: cosMap["broken"].port: must be an integer from 1 to 65535 (got "abc")',
          'bad.json: cosMap["broken"].addressingStyle: must be "virtual" or "path" (got "sideways")',
          'bad.json: cosMap["broken"].hots: unknown field (did you mean "host"?)',
          'bad.json: validator.webhook.url: must be an http:// or https:// URL (got "ftp://nope")',
          'bad.json: threadz: unknown field (did you mean "threads"?)',
        ].sort(),
      );
    }
  });

  it("reports what only the server can check, and unset variables", async () => {
    writeFileSync(
      join(dir.path, "osp.config.yaml"),
      "cosMap:\n  b:\n    host: s3.example.com\n    accessKey: ${NOT_SET_ANYWHERE}\n",
    );
    const result = await runCliProcess(["serve"], { cwd: dir.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'osp.config.yaml: cosMap["b"].accessKey: environment variable NOT_SET_ANYWHERE is not set\n',
    );
    writeFileSync(join(dir.path, "osp.config.yaml"), "cosMap:\n  b:\n    host: s3.example.com\n");
    const server = await runCliProcess(["serve"], { cwd: dir.path });
    expect(server.code).toBe(2);
    expect(server.stderr).toContain(
      "osp.config.yaml: httpPort/httpsPort: at least one of them is required\n",
    );
    expect(server.stderr).toContain('osp.config.yaml: cosMap["b"]: has no credentials');
  });

  it("explains that TypeScript configs must be compiled, and YAML syntax errors by line", async () => {
    writeFileSync(join(dir.path, "osp.config.ts"), "export default {};\n");
    const typescript = await runCliProcess(["serve", "--config", "osp.config.ts"], {
      cwd: dir.path,
    });
    expect(typescript.code).toBe(2);
    expect(typescript.stderr).toContain("Node 20 cannot import TypeScript: compile it first");
    writeFileSync(join(dir.path, "broken.yaml"), "cosMap:\n  b: [unclosed\n");
    const yaml = await runCliProcess(["check", "--config", "broken.yaml"], { cwd: dir.path });
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toMatch(/^broken\.yaml: line \d+, column \d+: not valid YAML/);
  });
});
