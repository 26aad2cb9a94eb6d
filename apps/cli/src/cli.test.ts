import { describe, expect, it } from "vitest";
import { COMMANDS, mainHelp, runCli } from "./cli.ts";
import { EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";
import { testIo } from "./test-io.ts";
import { cliVersion } from "./version.ts";

describe("runCli", () => {
  it("prints the overview with every command on --help, and to stderr with exit 2 when no command is given", async () => {
    const help = testIo();
    expect(await runCli(["--help"], help.io)).toBe(EXIT_OK);
    for (const command of COMMANDS) expect(help.stdout.text).toContain(`  ${command.name}`);
    expect(help.stdout.text).toContain("2  usage or configuration error");
    const none = testIo();
    expect(await runCli([], none.io)).toBe(EXIT_USAGE);
    expect(none.stderr.text).toBe(`${mainHelp()}\n`);
  });

  it("prints the package version", async () => {
    const { io, stdout } = testIo();
    expect(await runCli(["--version"], io)).toBe(EXIT_OK);
    expect(stdout.text).toBe(`${cliVersion()}\n`);
    expect(cliVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("shows a command's help through `help <command>` and `<command> --help`", async () => {
    for (const command of COMMANDS) {
      const viaHelp = testIo();
      const viaFlag = testIo();
      expect(await runCli(["help", command.name], viaHelp.io)).toBe(EXIT_OK);
      expect(await runCli([command.name, "-h"], viaFlag.io)).toBe(EXIT_OK);
      expect(viaHelp.stdout.text).toMatch(new RegExp(`^Usage: osp ${command.name}`));
      expect(viaFlag.stdout.text).toBe(viaHelp.stdout.text);
    }
  });

  it("rejects unknown commands and options with exit 2 and a hint", async () => {
    const unknown = testIo();
    expect(await runCli(["serv"], unknown.io)).toBe(EXIT_USAGE);
    expect(unknown.stderr.text).toBe('osp: unknown command "serv"\n(see osp --help)\n');
    const option = testIo();
    expect(await runCli(["presign", "--expire", "1h"], option.io)).toBe(EXIT_USAGE);
    expect(option.stderr.text).toMatch(/^osp presign: Unknown option '--expire'/);
    expect(option.stderr.text).toContain("(see osp presign --help)");
    const helpTopic = testIo();
    expect(await runCli(["help", "nope"], helpTopic.io)).toBe(EXIT_USAGE);
  });

  it("runs keys new", async () => {
    const { io, stdout } = testIo();
    expect(await runCli(["keys", "new"], io)).toBe(EXIT_OK);
    expect(stdout.text).toMatch(
      /^access key id: +OSP[A-Z0-9]{17}\nsecret access key: +[A-Za-z0-9+/]{40}\n$/,
    );
    const missing = testIo();
    expect(await runCli(["keys"], missing.io)).toBe(EXIT_USAGE);
    expect(missing.stderr.text).toContain("missing sub-command: osp keys new");
    const both = testIo();
    expect(await runCli(["keys", "new", "--json", "--env", "A"], both.io)).toBe(EXIT_USAGE);
  });
});
