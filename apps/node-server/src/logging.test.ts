import { describe, expect, it } from "vitest";
import { createLogger, redactFields, redactQuery } from "./logging.ts";

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
    expect(new Date(String(record.time)).getTime()).toBeGreaterThan(0);
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
