import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDotenv, parseDotenv } from "./dotenv.ts";

describe("parseDotenv", () => {
  it("reads KEY=VALUE lines, skipping blanks and comments", () => {
    const { variables, invalidLines } = parseDotenv("# comment\n\nA=1\n  B = two  \nC=\n");
    expect(variables).toEqual({ A: "1", B: "two", C: "" });
    expect(invalidLines).toEqual([]);
  });

  it("accepts the export prefix", () => {
    expect(parseDotenv("export TLS_CERT_PATH=/etc/osp/cert.pem").variables).toEqual({
      TLS_CERT_PATH: "/etc/osp/cert.pem",
    });
  });

  it("keeps single-quoted values literally", () => {
    expect(parseDotenv("A='x # y \\n $z'").variables.A).toBe("x # y \\n $z");
  });

  it("expands escapes in double-quoted values and lets them span lines", () => {
    const { variables } = parseDotenv('A="line1\\nline2 \\"q\\""\nB="multi\nline"\nC=after');
    expect(variables).toEqual({ A: 'line1\nline2 "q"', B: "multi\nline", C: "after" });
  });

  it("cuts inline comments of unquoted values only after whitespace", () => {
    expect(parseDotenv("A=abc # note\nB=a#b").variables).toEqual({ A: "abc", B: "a#b" });
  });

  it("keeps '=' inside values", () => {
    expect(parseDotenv("SECRET=abc==def").variables.SECRET).toBe("abc==def");
  });

  it("reports invalid lines by number without their content", () => {
    const { variables, invalidLines } = parseDotenv(
      'GOOD=1\nno equals here\n1BAD=2\n=x\nQ="unterminated',
    );
    expect(variables).toEqual({ GOOD: "1" });
    expect(invalidLines).toEqual([2, 3, 4, 5]);
  });

  it("handles CRLF line ends and a byte order mark", () => {
    expect(parseDotenv("\uFEFFA=1\r\nB=2\r\n").variables).toEqual({ A: "1", B: "2" });
  });
});

describe("loadDotenv", () => {
  const dir = mkdtempSync(join(tmpdir(), "osp-dotenv-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("sets variables that are not set and never overrides those that are", () => {
    const path = join(dir, ".env");
    writeFileSync(path, "NEW_ONE=from-file\nEXISTING=from-file\nEMPTY_SET=from-file\n");
    const env: Record<string, string | undefined> = { EXISTING: "from-env", EMPTY_SET: "" };
    const result = loadDotenv(path, env);
    expect(env).toEqual({ NEW_ONE: "from-file", EXISTING: "from-env", EMPTY_SET: "" });
    expect(result).toMatchObject({
      found: true,
      applied: ["NEW_ONE"],
      kept: ["EXISTING", "EMPTY_SET"],
    });
  });

  it("treats a missing file as nothing to load", () => {
    const env: Record<string, string | undefined> = {};
    expect(loadDotenv(join(dir, "absent.env"), env)).toMatchObject({ found: false, applied: [] });
    expect(env).toEqual({});
  });
});
