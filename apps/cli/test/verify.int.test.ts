// `osp verify` on raw HTTP requests (file and stdin) and presigned URLs: exit 0 when valid,
// exit 1 with S3's explanation when not.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { presignUrl, signRequest } from "@osp/sigv4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_TIMEOUT_MS, ensureBuilt } from "./support/build.ts";
import { tempDir } from "./support/fixtures.ts";
import { killAllCli, runCliProcess } from "./support/process.ts";

const SECRET = "verify-test-secret-00000000000000000001";
const KEY = "OSPVERIFYTEST0000001";
const SIGNED_AT = Date.UTC(2025, 0, 31, 12, 0, 0);
const NOW = "2025-01-31T12:00:05Z";
const dir = tempDir();

const body = "hello, verify";
const signedPut = () => {
  const headers: Array<[string, string]> = [
    ["host", "127.0.0.1:6190"],
    ["content-type", "text/plain"],
    ["x-amz-content-sha256", createHash("sha256").update(body).digest("hex")],
  ];
  const signed = signRequest(
    { method: "PUT", path: "/demo-bucket/notes/hello.txt", query: "", headers },
    {
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
      region: "us-east-1",
      now: SIGNED_AT,
    },
  );
  return signed.headers;
};
const rawRequest = (
  target: string,
  headers: ReadonlyArray<readonly [string, string]>,
  payload: string,
): string =>
  `PUT ${target} HTTP/1.1\r\n${headers.map(([name, value]) => `${name}: ${value}`).join("\r\n")}\r\ncontent-length: ${payload.length}\r\n\r\n${payload}`;

beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);
afterAll(() => {
  killAllCli();
  dir.remove();
});

describe("osp verify", () => {
  it("accepts a valid request from a file (exit 0)", async () => {
    writeFileSync(
      join(dir.path, "valid.http"),
      rawRequest("/demo-bucket/notes/hello.txt", signedPut(), body),
    );
    const result = await runCliProcess(["verify", "valid.http", "--secret", SECRET, "--now", NOW], {
      cwd: dir.path,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^✔ valid/);
    expect(result.stdout).toMatch(/✔ payload +the body \(13 bytes\) matches/);
    expect(result.stdout).not.toContain(SECRET);
  });

  it("explains a tampered path (exit 1): check, canonical request, string to sign, signed headers, skew", async () => {
    const raw = rawRequest("/demo-bucket/notes/other.txt", signedPut(), body);
    const result = await runCliProcess(["verify", "-", "--secret", SECRET, "--now", NOW], {
      input: raw,
    });
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toContain("✘ invalid: SignatureDoesNotMatch");
    expect(out).toMatch(/✘ signature +the signature calculated with the secret differs/);
    expect(out).toMatch(/signed headers +content-type;host;x-amz-content-sha256;x-amz-date/);
    expect(out).toContain("the request is 5s older than now (allowed ±15m)");
    expect(out).toContain(
      "The canonical request we expected (S3: CanonicalRequest):\n    PUT\n    /demo-bucket/notes/other.txt\n",
    );
    expect(out).toContain(
      "The string to sign we expected (S3: StringToSign):\n    AWS4-HMAC-SHA256\n    20250131T120000Z\n    20250131/us-east-1/s3/aws4_request\n",
    );
    expect(out).not.toContain(SECRET);
  });

  it("names the clock skew when the request is too old", async () => {
    writeFileSync(
      join(dir.path, "valid.http"),
      rawRequest("/demo-bucket/notes/hello.txt", signedPut(), body),
    );
    const result = await runCliProcess(
      ["verify", "valid.http", "--secret", SECRET, "--now", "2025-01-31T12:20:00Z"],
      { cwd: dir.path },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✘ invalid: RequestTimeTooSkewed");
    expect(result.stdout).toMatch(
      /✘ time +the request is 20m older than now; S3 refuses more than ±15m/,
    );
  });

  it("finds a body that does not match x-amz-content-sha256", async () => {
    writeFileSync(
      join(dir.path, "body.http"),
      rawRequest("/demo-bucket/notes/hello.txt", signedPut(), "HELLO, VERIFY"),
    );
    const result = await runCliProcess(["verify", "body.http", "--secret", SECRET, "--now", NOW], {
      cwd: dir.path,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✘ invalid: XAmzContentSHA256Mismatch");
    expect(result.stdout).toMatch(/✔ signature/);
  });

  it("verifies a presigned URL, and explains an expired one", async () => {
    const url = presignUrl("http://127.0.0.1:6190/demo-bucket/README.md", {
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
      region: "us-east-1",
      now: SIGNED_AT,
      expiresInSeconds: 60,
    });
    const valid = await runCliProcess(["verify", "--url", url, "--secret", SECRET, "--now", NOW]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain("presigned URL");
    const expired = await runCliProcess([
      "verify",
      "--url",
      url,
      "--secret",
      SECRET,
      "--now",
      "2025-01-31T12:05:00Z",
    ]);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toContain("✘ invalid: AccessDenied: Request has expired");
    expect(expired.stdout).toMatch(/✘ time +expired 4m ago/);
  });

  it("exits with 2 when the input is not an HTTP request", async () => {
    const result = await runCliProcess(["verify", "-", "--secret", SECRET], { input: "hello\n" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("request line");
  });
});
