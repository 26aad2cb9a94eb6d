// `osp serve` from a JSON and a YAML config, with real SDK requests through OSP to a local S3
// backend: ${ENV} interpolation, the environment key lookup, the webhook validator, OSP_* overrides.
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import type { LocalS3 } from "@osp/local-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_TIMEOUT_MS, ensureBuilt } from "./support/build.ts";
import { BACKEND_KEY, CLIENT_KEY, s3Client, startBackend, tempDir } from "./support/fixtures.ts";
import { killAllCli, startCli, type CliProcess } from "./support/process.ts";

interface WebhookCall {
  token: string;
  bucket: string;
  request: { method: string; operation: string; key?: string };
}

let backend: LocalS3;
let webhook: Server;
let webhookUrl: string;
const webhookCalls: WebhookCall[] = [];
const dir = tempDir();

beforeAll(async () => {
  await ensureBuilt();
  backend = await startBackend(["data"]);
  // Allows everything but deletes; records what OSP asked.
  webhook = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const call = JSON.parse(body) as WebhookCall;
      webhookCalls.push(call);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ allow: call.request.operation !== "DeleteObject" }));
    });
  });
  webhook.listen(0, "127.0.0.1");
  await once(webhook, "listening");
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/decide`;
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  killAllCli();
  await backend?.close();
  webhook?.close();
  dir.remove();
});

const backendEnv = () => ({
  BACKEND_PORT: String(backend.port),
  BACKEND_AK: BACKEND_KEY.accessKeyId,
  BACKEND_SK: BACKEND_KEY.secretAccessKey,
});

describe("osp serve with osp.config.json", () => {
  let osp: CliProcess;
  let endpoint: string;

  beforeAll(async () => {
    const config = {
      httpPort: 0,
      bindAddress: "127.0.0.1",
      dotenv: false,
      logLevel: "warn",
      cosMap: {
        data: {
          host: "127.0.0.1",
          port: "${BACKEND_PORT}",
          tls: false,
          addressingStyle: "path",
          accessKey: "${BACKEND_AK}",
          secretKey: "${BACKEND_SK}",
        },
      },
      clientKeys: { env: true },
      validator: { webhook: { url: "${WEBHOOK_URL}", timeoutMs: 2000 } },
    };
    writeFileSync(join(dir.path, "osp.config.json"), JSON.stringify(config, null, 2));
    // No --config: the file is discovered in the working directory.
    osp = startCli(["serve"], {
      cwd: dir.path,
      env: {
        ...backendEnv(),
        WEBHOOK_URL: webhookUrl,
        CLIENT1_ACCESS_KEY: CLIENT_KEY.accessKeyId,
        CLIENT1_SECRET_KEY: CLIENT_KEY.secretAccessKey,
      },
    });
    endpoint = (await osp.waitFor(/http listening on (http:\/\/\S+)/, { stream: "stderr" }))[1]!;
  });

  afterAll(() => osp?.kill());

  it("proxies SDK uploads, downloads and listings to the backend", async () => {
    const client = s3Client(endpoint);
    await client.send(
      new PutObjectCommand({ Bucket: "data", Key: "dir/hello.txt", Body: "hello through osp" }),
    );
    const object = await client.send(
      new GetObjectCommand({ Bucket: "data", Key: "dir/hello.txt" }),
    );
    expect(await object.Body!.transformToString()).toBe("hello through osp");
    const listing = await client.send(new ListObjectsV2Command({ Bucket: "data" }));
    expect(listing.Contents?.map((item) => item.Key)).toEqual(["dir/hello.txt"]);
  });

  it("asks the webhook with the client's key, the bucket and the request", () => {
    expect(webhookCalls).toContainEqual(
      expect.objectContaining({
        token: CLIENT_KEY.accessKeyId,
        bucket: "data",
        request: expect.objectContaining({
          method: "PUT",
          operation: "PutObject",
          key: "dir/hello.txt",
        }),
      }),
    );
  });

  it("denies what the webhook denies", async () => {
    const client = s3Client(endpoint);
    await expect(
      client.send(new DeleteObjectCommand({ Bucket: "data", Key: "dir/hello.txt" })),
    ).rejects.toMatchObject({
      name: "AccessDenied",
    });
  });

  it("rejects a client whose secret is wrong", async () => {
    const client = s3Client(endpoint, {
      ...CLIENT_KEY,
      secretAccessKey: "not-the-secret-000000000000000000000000",
    });
    await expect(client.send(new ListObjectsV2Command({ Bucket: "data" }))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
    });
  });

  it("drains and exits with 0 on SIGTERM", async () => {
    osp.child.kill("SIGTERM");
    expect(await osp.exited()).toEqual({ code: 0, signal: null });
  });
});

describe("osp serve with osp.config.yaml", () => {
  let osp: CliProcess | undefined;
  afterAll(() => osp?.kill());

  it("serves static client keys, with OSP_HTTP_PORT overriding the file's port", async () => {
    const yaml = [
      "# yaml-language-server: $schema=../config-schema.json",
      "http_port: 1 # overridden by OSP_HTTP_PORT",
      "bind_address: 127.0.0.1",
      "dotenv: false",
      "log_level: warn",
      "cos_map:",
      "  data:",
      "    host: 127.0.0.1",
      "    port: ${BACKEND_PORT}",
      "    tls: false",
      "    addressing_style: path",
      "    access_key: ${BACKEND_AK}",
      "    secret_key: ${BACKEND_SK}",
      "clientKeys:",
      "  static:",
      `    - accessKey: ${CLIENT_KEY.accessKeyId}`,
      "      secretKey: ${CLIENT_SECRET}",
      "",
    ].join("\n");
    writeFileSync(join(dir.path, "proxy.yaml"), yaml);
    osp = startCli(["serve", "--config", "proxy.yaml"], {
      cwd: dir.path,
      env: { ...backendEnv(), CLIENT_SECRET: CLIENT_KEY.secretAccessKey, OSP_HTTP_PORT: "0" },
    });
    const endpoint = (
      await osp.waitFor(/http listening on (http:\/\/\S+)/, { stream: "stderr" })
    )[1]!;
    expect(osp.stderr()).toContain("overridden by OSP_HTTP_PORT");
    const listing = await s3Client(endpoint).send(new ListObjectsV2Command({ Bucket: "data" }));
    expect(listing.Contents?.map((item) => item.Key)).toEqual(["dir/hello.txt"]);
    osp.child.kill("SIGINT");
    expect((await osp.exited()).code).toBe(0);
  });
});

describe("osp serve with osp.config.mjs", () => {
  let osp: CliProcess | undefined;
  afterAll(() => osp?.kill());

  it("uses the module's callbacks (an async hmacFetcher and validator)", async () => {
    const module = `export default async () => ({
  httpPort: 0,
  bindAddress: "127.0.0.1",
  dotenv: false,
  logLevel: "warn",
  cosMap: {
    data: { host: "127.0.0.1", port: ${backend.port}, tls: false, addressingStyle: "path",
      accessKey: process.env.BACKEND_AK, secretKey: process.env.BACKEND_SK },
  },
  hmacFetcher: async (accessKey) => (accessKey === "${CLIENT_KEY.accessKeyId}" ? "${CLIENT_KEY.secretAccessKey}" : null),
  validator: async (token, bucket, request) => request.operation === "ListObjectsV2",
});
`;
    writeFileSync(join(dir.path, "osp.config.mjs"), module);
    osp = startCli(["serve", "-c", "osp.config.mjs"], { cwd: dir.path, env: backendEnv() });
    const endpoint = (
      await osp.waitFor(/http listening on (http:\/\/\S+)/, { stream: "stderr" })
    )[1]!;
    const client = s3Client(endpoint);
    const listing = await client.send(new ListObjectsV2Command({ Bucket: "data" }));
    expect(listing.Contents?.map((item) => item.Key)).toEqual(["dir/hello.txt"]);
    await expect(
      client.send(new GetObjectCommand({ Bucket: "data", Key: "dir/hello.txt" })),
    ).rejects.toMatchObject({
      name: "AccessDenied",
    });
    osp.child.kill("SIGTERM");
    expect((await osp.exited()).code).toBe(0);
  });
});
