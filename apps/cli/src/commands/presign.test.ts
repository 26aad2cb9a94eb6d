import { parseAuthorization, verifyRequest } from "@osp/sigv4";
import { describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../exit-codes.ts";
import { requestFromUrl } from "../raw-http.ts";
import { testIo } from "../test-io.ts";
import { runCli } from "../cli.ts";
import { DEFAULT_ENDPOINT, parseS3Uri } from "./presign.ts";

const NOW = Date.UTC(2025, 0, 31, 12, 0, 0);
const KEY = { accessKeyId: "OSPPRESIGNUNIT000001", secretAccessKey: "unit-secret" };
const flags = ["--access-key", KEY.accessKeyId, "--secret-key", KEY.secretAccessKey];

const presign = async (args: string[], env: Record<string, string> = {}) => {
  const { io, stdout, stderr } = testIo({ env, now: NOW });
  const code = await runCli(["presign", ...args], io);
  return { code, url: stdout.text.trim(), stderr: stderr.text };
};

describe("parseS3Uri", () => {
  it("splits bucket and key", () => {
    expect(parseS3Uri("s3://b/dir/key.txt")).toEqual({ bucket: "b", key: "dir/key.txt" });
    expect(parseS3Uri("s3://b")).toEqual({ bucket: "b", key: "" });
    expect(parseS3Uri("https://b/k")).toBeUndefined();
  });
});

describe("osp presign", () => {
  it("signs a path-style URL that verifies with the secret at the signing time", async () => {
    const { code, url } = await presign([
      "s3://demo-bucket/dir/a b.txt",
      "--expires",
      "900",
      "--region",
      "eu-de",
      ...flags,
    ]);
    expect(code).toBe(EXIT_OK);
    expect(
      url.startsWith(
        `${DEFAULT_ENDPOINT}/demo-bucket/dir/a%20b.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256`,
      ),
    ).toBe(true);
    const request = requestFromUrl(url, "GET");
    const verified = await verifyRequest(request, {
      lookupSecret: () => KEY.secretAccessKey,
      now: NOW + 899_000,
    });
    expect(verified).toMatchObject({
      kind: "query",
      accessKeyId: KEY.accessKeyId,
      expiresInSeconds: 900,
      scope: { region: "eu-de", date: "20250131" },
    });
    await expect(
      verifyRequest(request, { lookupSecret: () => KEY.secretAccessKey, now: NOW + 901_000 }),
    ).rejects.toMatchObject({ code: "AccessDenied" });
  });

  it("binds the method", async () => {
    const { url } = await presign([
      "s3://b/k",
      "--method",
      "put",
      "--endpoint",
      "https://osp.example.com/",
      ...flags,
    ]);
    expect(url.startsWith("https://osp.example.com/b/k?")).toBe(true);
    const put = requestFromUrl(url, "PUT");
    await expect(
      verifyRequest(put, { lookupSecret: () => KEY.secretAccessKey, now: NOW }),
    ).resolves.toBeDefined();
    await expect(
      verifyRequest(requestFromUrl(url, "GET"), {
        lookupSecret: () => KEY.secretAccessKey,
        now: NOW,
      }),
    ).rejects.toMatchObject({
      code: "SignatureDoesNotMatch",
    });
  });

  it("takes endpoint and region from the environment", async () => {
    const { url } = await presign(["s3://b/k"], {
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
      AWS_SESSION_TOKEN: "session-token",
      AWS_ENDPOINT_URL_S3: "http://s3.local:9000",
      AWS_REGION: "ap-south-1",
    });
    expect(url.startsWith("http://s3.local:9000/b/k?")).toBe(true);
    expect(parseAuthorization(requestFromUrl(url, "GET"))).toMatchObject({
      scope: { region: "ap-south-1" },
      sessionToken: "session-token",
    });
  });

  it("rejects bad methods, lifetimes and endpoints with exit 2", async () => {
    expect((await presign(["s3://b/k", "--method", "POST", ...flags])).code).toBe(EXIT_USAGE);
    expect((await presign(["s3://b/k", "--expires", "0", ...flags])).code).toBe(EXIT_USAGE);
    expect((await presign(["s3://b/k", "--expires", "8d", ...flags])).stderr).toContain(
      "from 1s to 7d",
    );
    expect((await presign(["s3://b/k", "--endpoint", "ftp://x", ...flags])).code).toBe(EXIT_USAGE);
    expect((await presign([...flags])).stderr).toContain("missing s3://BUCKET/KEY");
  });
});
