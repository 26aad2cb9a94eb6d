// threads: 2 through the real binary: a primary and two worker processes sharing the listener,
// metrics summed over the workers, SIGTERM draining everything. Bounded: every wait has a limit.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { LocalS3 } from "@osp/local-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleBin } from "./support/bundle-bin.ts";
import {
  BACKEND,
  BUCKET,
  CLIENT,
  eventually,
  s3Client,
  send,
  startBackend,
} from "./support/harness.ts";

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("threads: 2 (node:cluster) via osp-server", () => {
  let backend: LocalS3;
  let binPath: string;
  let configDir: string;
  let child: ChildProcess | undefined;
  let client: S3Client;
  let agent: Agent;
  const stdout: string[] = [];
  let stderr = "";

  const records = () =>
    stdout
      .join("")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const printed = (name: string) =>
    new RegExp(`^osp-server ${name} (\\S+)$`, "m").exec(stdout.join(""))?.[1];

  beforeAll(async () => {
    backend = await startBackend();
    binPath = await bundleBin();
    configDir = mkdtempSync(join(tmpdir(), "osp-cluster-"));
    const configPath = join(configDir, "osp.config.mjs");
    writeFileSync(
      configPath,
      `export default async () => (${JSON.stringify({
        httpPort: 0,
        adminPort: 0,
        bindAddress: "127.0.0.1",
        threads: 2,
        dotenv: false,
        logLevel: "info",
        shutdownTimeoutMs: 5000,
        cosMap: {
          [BUCKET]: {
            host: "127.0.0.1",
            port: backend.port,
            tls: false,
            addressing_style: "path",
            access_key: BACKEND.accessKeyId,
            secret_key: BACKEND.secretAccessKey,
          },
        },
        hmac_keystore: [{ access_key: CLIENT.accessKeyId, secret_key: CLIENT.secretAccessKey }],
      })});\n`,
    );
    child = spawn(process.execPath, [binPath, configPath], {
      cwd: configDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.setEncoding("utf8").on("data", (text: string) => stdout.push(text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    await eventually(
      () => printed("admin") != null || child?.exitCode != null,
      25_000,
      "osp-server to print its URLs",
    );
    if (printed("admin") == null) throw new Error(`osp-server did not start: ${stderr}`);
    // A new connection per request: the cluster hands connections to workers in turn.
    agent = new Agent({ keepAlive: false });
    client = s3Client(printed("http")!, { requestHandler: { httpAgent: agent } });
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    agent?.destroy();
    if (child != null && child.exitCode == null) {
      child.kill("SIGKILL");
      await new Promise((resolve) => child!.once("exit", resolve));
    }
    await backend?.close();
    if (configDir != null) rmSync(configDir, { recursive: true, force: true });
    if (binPath != null) rmSync(dirname(binPath), { recursive: true, force: true });
  });

  it("starts two workers that both answer S3 requests", async () => {
    const workerPids = new Set(
      records()
        .filter((record) => record.log === "server" && record.msg === "listening")
        .map((record) => record.pid),
    );
    expect(workerPids.size).toBe(2);
    expect(workerPids.has(child!.pid)).toBe(false);

    for (let i = 0; i < 6; i += 1) {
      await client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `cluster/${i}`, Body: `body ${i}` }),
      );
      const output = await client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `cluster/${i}` }),
      );
      expect(await output.Body!.transformToString()).toBe(`body ${i}`);
    }
    await eventually(
      () => records().filter((record) => record.log === "access").length >= 12,
      5_000,
      "access lines",
    );
    const servedBy = new Set(
      records()
        .filter((record) => record.log === "access")
        .map((record) => record.pid),
    );
    expect(servedBy).toEqual(workerPids);
  });

  it("sums metrics over the workers on the admin port and on the main listener", async () => {
    const total = (text: string, operation: string) =>
      Number(
        new RegExp(
          `^osp_requests_total\\{operation="${operation}",status="200"\\} (\\d+)$`,
          "m",
        ).exec(text)?.[1] ?? 0,
      );
    const fromAdmin = (await send(`${printed("admin")!}/metrics`)).body.toString();
    expect(total(fromAdmin, "PutObject")).toBe(6);
    expect(total(fromAdmin, "GetObject")).toBe(6);
    const fromWorker = (
      await send(`${printed("http")!}/-/osp/metrics`, { headers: { connection: "close" } })
    ).body.toString();
    expect(total(fromWorker, "PutObject")).toBe(6);
    const ready = await send(`${printed("admin")!}/readyz`);
    expect(ready.status).toBe(200);
  });

  it("drains and exits on SIGTERM, workers included", async () => {
    const workerPids = records()
      .filter((record) => record.log === "server" && record.msg === "listening")
      .map((record) => record.pid as number);
    const exited = new Promise<number | null>((resolve) =>
      child!.once("exit", (code) => resolve(code)),
    );
    child!.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("timeout"), 15_000)),
    ]);
    expect(code).toBe(0);
    await eventually(() => workerPids.every((pid) => !isAlive(pid)), 5_000, "the workers to exit");
    expect(records().some((record) => record.log === "cluster" && record.msg === "closed")).toBe(
      true,
    );
  }, 30_000);
});

describe("threads: 2 embedded in a user's program", () => {
  let backend: LocalS3;
  let scriptPath: string;
  let child: ChildProcess | undefined;
  let output = "";

  beforeAll(async () => {
    backend = await startBackend();
    scriptPath = await bundleBin(
      join(dirname(new URL(import.meta.url).pathname), "fixtures", "cluster-script.ts"),
    );
    const config = {
      httpPort: 0,
      bindAddress: "127.0.0.1",
      dotenv: false,
      logLevel: "warn",
      cosMap: {
        [BUCKET]: {
          host: "127.0.0.1",
          port: backend.port,
          tls: false,
          addressingStyle: "path",
          accessKey: BACKEND.accessKeyId,
          secretKey: BACKEND.secretAccessKey,
        },
      },
      hmacKeystore: [{ accessKey: CLIENT.accessKeyId, secretKey: CLIENT.secretAccessKey }],
    };
    child = spawn(process.execPath, [scriptPath], {
      env: { ...process.env, OSP_TEST_CONFIG: JSON.stringify(config) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdout!.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
    await eventually(
      () => /^READY /m.test(output) || child?.exitCode != null,
      25_000,
      "the program to start",
    );
    if (!/^READY /m.test(output)) throw new Error(`the program did not start: ${output}`);
  }, 60_000);

  afterAll(async () => {
    if (child != null && child.exitCode == null) {
      child.kill("SIGKILL");
      await new Promise((resolve) => child!.once("exit", resolve));
    }
    await backend?.close();
    if (scriptPath != null) rmSync(dirname(scriptPath), { recursive: true, force: true });
  });

  it("sums the workers' request counts in the primary's getRequestCount()", async () => {
    const url = /^READY (\S+)$/m.exec(output)![1]!;
    const agent = new Agent({ keepAlive: false });
    const client = s3Client(url, { requestHandler: { httpAgent: agent } });
    try {
      for (let i = 0; i < 4; i += 1) {
        await client.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: `embedded/${i}`, Body: "x" }),
        );
      }
    } finally {
      client.destroy();
      agent.destroy();
    }
    const lastCount = () => Number([...output.matchAll(/^COUNT (\d+)$/gm)].at(-1)?.[1] ?? -1);
    await eventually(
      () => {
        child!.stdin!.write("count?\n");
        return lastCount() === 4;
      },
      5_000,
      "the summed count to reach 4",
    );
    const exited = new Promise<number | null>((resolve) =>
      child!.once("exit", (code) => resolve(code)),
    );
    child!.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 30_000);
});
