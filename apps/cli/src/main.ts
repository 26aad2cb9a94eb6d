#!/usr/bin/env node
// The `osp` binary: runs the command, then exits with its code once output is flushed.
import { runCli } from "./cli.ts";
import { processIo } from "./io.ts";

const code = await runCli(process.argv.slice(2), processIo());
// Exit only after stdout/stderr drained (they are asynchronous pipes when not a terminal).
process.stdout.write("", () => {
  process.stderr.write("", () => process.exit(code));
});
