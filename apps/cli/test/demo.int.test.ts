// `osp demo`: starts, prints an endpoint, keys and the aws-cli lines; a real SDK listing works
// with what it printed; each request shows as a line; Ctrl-C (SIGINT) stops it cleanly.
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_TIMEOUT_MS, ensureBuilt } from "./support/build.ts";
import { s3Client } from "./support/fixtures.ts";
import { killAllCli, startCli, type CliProcess } from "./support/process.ts";

let blocker: Server;
let busyPort: number;

beforeAll(async () => {
  await ensureBuilt();
  // Holds a port so that the demo must fall back to another one.
  blocker = createServer();
  blocker.listen(0, "127.0.0.1");
  await once(blocker, "listening");
  busyPort = (blocker.address() as AddressInfo).port;
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  killAllCli();
  blocker?.close();
});

describe("osp demo", () => {
  let demo: CliProcess;
  let endpoint: string;
  let accessKeyId: string;
  let secretAccessKey: string;

  beforeAll(async () => {
    demo = startCli(["demo", "--port", String(busyPort)]);
    await demo.waitFor(/Requests \(Ctrl-C to stop\):/, { stream: "stdout" });
    const oneLiner = (await demo.waitFor(
      /AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) AWS_REGION=us-east-1 aws --endpoint-url (\S+) s3 ls s3:\/\/demo-bucket\/ --recursive --summarize --human-readable/,
    ))!;
    [, accessKeyId, secretAccessKey, endpoint] = oneLiner as unknown as [
      string,
      string,
      string,
      string,
    ];
  });

  afterAll(() => demo?.kill());

  it("falls back to a free port when the requested one is busy", () => {
    expect(demo.stdout()).toContain(`Port ${busyPort} is busy`);
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint).not.toBe(`http://127.0.0.1:${busyPort}`);
  });

  it("prints a generated OSP key and the aws profile lines for it", () => {
    expect(accessKeyId).toMatch(/^OSP[A-Z0-9]{17}$/);
    expect(secretAccessKey).toHaveLength(40);
    const out = demo.stdout();
    expect(out).toContain(
      `[profile osp-demo]\nregion = us-east-1\nendpoint_url = ${endpoint}\ns3 =\n    addressing_style = path`,
    );
    expect(out).toContain(
      `[osp-demo]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}`,
    );
  });

  it("serves the demo bucket and its README.md with the printed key", async () => {
    const client = s3Client(endpoint, { accessKeyId, secretAccessKey });
    const listing = await client.send(new ListObjectsV2Command({ Bucket: "demo-bucket" }));
    expect(listing.Contents?.map((item) => item.Key)).toEqual(["README.md"]);
    const readme = await client.send(
      new GetObjectCommand({ Bucket: "demo-bucket", Key: "README.md" }),
    );
    expect(await readme.Body!.transformToString()).toContain("Welcome to the OSP demo");
  });

  it("shows one line per proxied request", async () => {
    await demo.waitFor(/GET +demo-bucket\/? +ListObjectsV2 +200 +[\d.]+ ms/, { stream: "stdout" });
    await demo.waitFor(/GET +demo-bucket\/README\.md +GetObject +200 +[\d.]+ ms/, {
      stream: "stdout",
    });
  });

  it("refuses a key it did not print", async () => {
    const client = s3Client(endpoint, { accessKeyId, secretAccessKey: "x".repeat(40) });
    await expect(
      client.send(new ListObjectsV2Command({ Bucket: "demo-bucket" })),
    ).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
    });
    await demo.waitFor(/GET +demo-bucket\/? +ListObjectsV2 +403 .*SignatureDoesNotMatch/, {
      stream: "stdout",
    });
  });

  it("stops cleanly on Ctrl-C (SIGINT) with exit code 0", async () => {
    demo.child.kill("SIGINT");
    expect(await demo.exited()).toEqual({ code: 0, signal: null });
    expect(demo.stdout()).toContain("Stopped.");
    expect(demo.stderr()).toBe("");
  });
});

describe("osp demo --no-requests with a fixed key", () => {
  it("uses the given key and prints no request lines", async () => {
    const demo = startCli([
      "demo",
      "--port",
      "0",
      "--no-requests",
      "--access-key",
      "OSPFIXEDDEMOKEY00001",
      "--secret-key",
      "fixed-demo-secret",
    ]);
    try {
      await demo.waitFor(/Ctrl-C to stop\./, { stream: "stdout" });
      const endpoint = (await demo.waitFor(/--endpoint-url (\S+)/))[1]!;
      const client = s3Client(endpoint, {
        accessKeyId: "OSPFIXEDDEMOKEY00001",
        secretAccessKey: "fixed-demo-secret",
      });
      const listing = await client.send(new ListObjectsV2Command({ Bucket: "demo-bucket" }));
      expect(listing.KeyCount).toBe(1);
      demo.child.kill("SIGINT");
      expect((await demo.exited()).code).toBe(0);
      expect(demo.stdout()).not.toMatch(/ListObjectsV2 +200/);
    } finally {
      demo.kill();
    }
  });
});
