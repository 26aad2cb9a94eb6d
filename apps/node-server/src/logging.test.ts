import { describe, expect, it } from "vitest";
import {
  BATCH_DELAY_MS,
  createInfoLineWriter,
  createLogger,
  jsonField,
  redactFields,
  redactQuery,
} from "./logging.ts";

describe("redactQuery", () => {
  it("replaces the values of presign parameters and keeps the rest", () => {
    const query =
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request" +
      "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host" +
      "&X-Amz-Security-Token=tok%2Bsecret&X-Amz-Signature=deadbeef&prefix=a%2Fb";
    const redacted = redactQuery(query);
    expect(redacted).not.toContain("deadbeef");
    expect(redacted).not.toContain("tok%2Bsecret");
    expect(redacted).not.toContain("AKID");
    expect(redacted).toContain("X-Amz-Signature=REDACTED");
    expect(redacted).toContain("X-Amz-Algorithm=AWS4-HMAC-SHA256");
    expect(redacted).toContain("prefix=a%2Fb");
  });

  it("matches names case-insensitively and when percent-encoded", () => {
    expect(redactQuery("x-amz-signature=abc")).toBe("x-amz-signature=REDACTED");
    expect(redactQuery("X%2DAmz%2DSignature=abc")).toBe("X%2DAmz%2DSignature=REDACTED");
    expect(redactQuery("Signature=abc&AWSAccessKeyId=AK")).toBe(
      "Signature=REDACTED&AWSAccessKeyId=REDACTED",
    );
  });

  it("leaves an empty or harmless query alone", () => {
    expect(redactQuery("")).toBe("");
    expect(redactQuery("list-type=2&prefix=x&uploads")).toBe("list-type=2&prefix=x&uploads");
  });
});

describe("redactFields", () => {
  it("replaces secret-named fields at any depth, whatever their spelling", () => {
    const safe = redactFields({
      secretKey: "s3cr3t",
      nested: {
        Authorization: "x",
        keep: "yes",
        deeper: { api_key: "ibm-key", "X-Amz-Security-Token": "tok" },
      },
      count: 3,
    });
    expect(safe).toEqual({
      secretKey: "REDACTED",
      nested: {
        Authorization: "REDACTED",
        keep: "yes",
        deeper: { api_key: "REDACTED", "X-Amz-Security-Token": "REDACTED" },
      },
      count: 3,
    });
  });

  it("replaces values that look like credentials under any name", () => {
    expect(
      redactFields({
        header:
          "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc",
        auth: "Bearer eyJhbGciOi",
        url: "https://h/b/k?X-Amz-Signature=0123456789abcdef0123",
        plain: "GetObject",
      }),
    ).toEqual({ header: "REDACTED", auth: "REDACTED", url: "REDACTED", plain: "GetObject" });
  });
});

describe("createLogger", () => {
  it("writes one JSON line per record with level, time and message", () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "info",
      destination: { write: (line) => void lines.push(line) },
    });
    logger.warn({ log: "proxy", ...redactFields({ apiKey: "ibm-key", bucket: "b" }) }, "careful");
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({
      level: "warn",
      msg: "careful",
      log: "proxy",
      bucket: "b",
      apiKey: "REDACTED",
    });
    expect(String(record.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(new Date(String(record.time)).getTime() - Date.now())).toBeLessThan(5_000);
    expect(lines[0]).not.toContain("ibm-key");
  });

  it("respects the level", () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "warn",
      destination: { write: (line) => void lines.push(line) },
    });
    logger.info("hidden");
    logger.error("shown");
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(["shown"]);
  });
});

describe("createInfoLineWriter", () => {
  const capture = (level: "info" | "warn") => {
    const lines: string[] = [];
    const logger = createLogger({ level, destination: { write: (line) => void lines.push(line) } });
    return { lines, logger };
  };

  it("writes the same record as pino's child(bindings).info(fields, message)", () => {
    const { lines, logger } = capture("info");
    const fields = {
      requestId: "0123456789ABCDEF",
      path: '/b/k "quoted" \\ back\nline \u0001 ünï 😀',
      status: 200,
      durationMs: 1.25,
      aborted: true,
      bucket: undefined,
    };
    logger.child({ log: "access" }).info(fields, "request");
    const { write } = createInfoLineWriter(logger, { log: "access" });
    write(
      Object.entries(fields)
        .map(([name, value]) => jsonField(name, value))
        .join(""),
      "request",
    );
    expect(lines).toHaveLength(2);
    const [fromPino, byHand] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    delete fromPino!.time;
    const handTime = byHand!.time;
    delete byHand!.time;
    expect(byHand).toEqual(fromPino);
    expect(Object.keys(byHand!)).toEqual(Object.keys(fromPino!));
    expect(new Date(String(handTime)).getTime()).toBeGreaterThan(0);
    expect(lines[1]!.endsWith("}\n")).toBe(true);
    expect("bucket" in byHand!).toBe(false);
  });

  it("escapes lone surrogates and control characters into valid JSON", () => {
    expect(JSON.parse(`{${jsonField("v", "a\ud800b\u007f").slice(1)}}`)).toEqual({
      v: "a\ud800b\u007f",
    });
  });

  it("writes nothing while the logger is above info", () => {
    const { lines, logger } = capture("warn");
    const writer = createInfoLineWriter(logger, { log: "access" });
    expect(writer.enabled()).toBe(false);
    writer.write(jsonField("status", 200), "request");
    expect(lines).toEqual([]);
    logger.level = "info";
    expect(writer.enabled()).toBe(true);
    writer.write(jsonField("status", 200), "request");
    expect(lines).toHaveLength(1);
  });

  it("batches lines when asked: one write per ~16 KiB, the rest after a short delay or on flush", async () => {
    const { lines, logger } = capture("info");
    const writer = createInfoLineWriter(logger, { log: "access" }, { batch: true });
    // About 1 KiB per line: 20 lines fill one batch and leave a few for the timer.
    const fields = jsonField("path", "/bucket/" + "k".repeat(900));
    for (let index = 0; index < 20; index += 1) writer.write(fields, "request");
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThan(5);
    const written = () =>
      lines
        .join("")
        .split("\n")
        .filter((line) => line !== "");
    const before = written().length;
    expect(before).toBeLessThan(20);
    await new Promise((resolve) => setTimeout(resolve, BATCH_DELAY_MS + 50));
    expect(written()).toHaveLength(20);
    writer.write(fields, "request");
    writer.flush();
    expect(written()).toHaveLength(21);
    for (const line of written())
      expect(JSON.parse(line)).toMatchObject({ log: "access", msg: "request" });
  });
});
