// `osp presign`: URLs that a running OSP (osp demo) accepts, from flags, the environment or an
// aws-cli profile; a tampered URL is refused.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_TIMEOUT_MS, ensureBuilt } from "./support/build.ts";
import { tempDir } from "./support/fixtures.ts";
import { killAllCli, runCliProcess, startCli, type CliProcess } from "./support/process.ts";

const KEY = {
  accessKeyId: "OSPPRESIGNTEST000001",
  secretAccessKey: "presign-test-secret-0000000000000000001",
};
let demo: CliProcess;
let endpoint: string;
const dir = tempDir();

beforeAll(async () => {
  await ensureBuilt();
  demo = startCli([
    "demo",
    "--port",
    "0",
    "--no-requests",
    "--access-key",
    KEY.accessKeyId,
    "--secret-key",
    KEY.secretAccessKey,
  ]);
  endpoint = (await demo.waitFor(/--endpoint-url (\S+)/, { stream: "stdout" }))[1]!;
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  killAllCli();
  dir.remove();
});

const presign = async (args: string[], env: Record<string, string> = {}): Promise<string> => {
  const result = await runCliProcess(["presign", ...args], { env });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return result.stdout.trim();
};
const keyFlags = ["--access-key", KEY.accessKeyId, "--secret-key", KEY.secretAccessKey];

describe("osp presign", () => {
  it("prints a path-style GET URL that OSP serves", async () => {
    const url = await presign([
      "s3://demo-bucket/README.md",
      "--endpoint",
      endpoint,
      "--expires",
      "15m",
      ...keyFlags,
    ]);
    expect(url.startsWith(`${endpoint}/demo-bucket/README.md?`)).toBe(true);
    expect(new URL(url).searchParams.get("X-Amz-Expires")).toBe("900");
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Welcome to the OSP demo");
  });

  it("prints a PUT URL that uploads, readable afterwards with a GET URL", async () => {
    const put = await presign([
      "s3://demo-bucket/uploads/a b+c.txt",
      "--method",
      "PUT",
      "--endpoint",
      endpoint,
      ...keyFlags,
    ]);
    expect(put).toContain("/demo-bucket/uploads/a%20b%2Bc.txt?");
    const upload = await fetch(put, { method: "PUT", body: "uploaded with a presigned URL" });
    expect(upload.status).toBe(200);
    const get = await presign([
      "s3://demo-bucket/uploads/a b+c.txt",
      "--endpoint",
      endpoint,
      ...keyFlags,
    ]);
    expect(await (await fetch(get)).text()).toBe("uploaded with a presigned URL");
  });

  it("takes the key from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the endpoint from AWS_ENDPOINT_URL", async () => {
    const url = await presign(["s3://demo-bucket/README.md"], {
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
      AWS_ENDPOINT_URL: endpoint,
    });
    expect((await fetch(url)).status).toBe(200);
  });

  it("takes key, region and endpoint from an aws-cli profile", async () => {
    writeFileSync(
      join(dir.path, "credentials"),
      `[other]\naws_access_key_id = NOPE\naws_secret_access_key = nope\n\n[osp-demo]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\n`,
    );
    writeFileSync(
      join(dir.path, "config"),
      `[profile osp-demo]\nregion = us-east-1\nendpoint_url = ${endpoint}\ns3 =\n    addressing_style = path\n`,
    );
    const url = await presign(["s3://demo-bucket/README.md", "--profile", "osp-demo"], {
      AWS_SHARED_CREDENTIALS_FILE: join(dir.path, "credentials"),
      AWS_CONFIG_FILE: join(dir.path, "config"),
    });
    expect(url).toContain(`X-Amz-Credential=${KEY.accessKeyId}%2F`);
    expect((await fetch(url)).status).toBe(200);
  });

  it("produces URLs OSP refuses once tampered with", async () => {
    const url = await presign(["s3://demo-bucket/README.md", "--endpoint", endpoint, ...keyFlags]);
    const tampered = url.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200");
    expect(tampered).not.toBe(url);
    const response = await fetch(tampered);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("exits with 2 on usage errors", async () => {
    const badUri = await runCliProcess(["presign", "https://not-an-s3-uri", ...keyFlags]);
    expect(badUri.code).toBe(2);
    expect(badUri.stderr).toContain("expected s3://BUCKET/KEY");
    const noKey = await runCliProcess(["presign", "s3://demo-bucket/x"], {
      env: { HOME: dir.path },
    });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("no client key");
    const tooLong = await runCliProcess([
      "presign",
      "s3://demo-bucket/x",
      "--expires",
      "8d",
      ...keyFlags,
    ]);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain("--expires");
  });
});
