// `osp check`: a table of every bucket's backend answer to a signed HEAD; exit 1 when one fails
// (here: an unreachable backend and a refused key), exit 0 when all answer.
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { LocalS3 } from "@osp/local-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_TIMEOUT_MS, ensureBuilt } from "./support/build.ts";
import { BACKEND_KEY, startBackend, tempDir } from "./support/fixtures.ts";
import { killAllCli, runCliProcess } from "./support/process.ts";

let backend: LocalS3;
const dir = tempDir();
// A fake IBM IAM token endpoint and a bearer-token backend (IBM COS style) on loopback.
let iam: Server;
let bearerBackend: Server;
const iamForms: string[] = [];

const listen = async (server: Server): Promise<number> => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
};

beforeAll(async () => {
  await ensureBuilt();
  backend = await startBackend(["good", "fetched"]);
  iam = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      iamForms.push(body);
      const valid = new URLSearchParams(body).get("apikey") === "good-api-key";
      res.writeHead(valid ? 200 : 400, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          valid
            ? { access_token: "iam-token-1", expiration: Math.floor(Date.now() / 1000) + 3600 }
            : { errorCode: "BXNIM0415E" },
        ),
      );
    });
  });
  bearerBackend = createServer((req, res) => {
    res.writeHead(
      req.method === "HEAD" &&
        req.url === "/cos-bucket" &&
        req.headers.authorization === "Bearer iam-token-1"
        ? 200
        : 403,
    );
    res.end();
  });
  const iamPort = await listen(iam);
  const bearerPort = await listen(bearerBackend);
  const local = { host: "127.0.0.1", port: backend.port, tls: false, addressingStyle: "path" };
  const config = {
    httpPort: 0,
    dotenv: false,
    hmacKeystore: [{ accessKey: "OSPCHECKCLIENT000001", secretKey: "client-secret" }],
    cosMap: {
      good: { ...local, accessKey: BACKEND_KEY.accessKeyId, secretKey: "${BACKEND_SK}" },
      refused: {
        ...local,
        backendBucket: "good",
        accessKey: BACKEND_KEY.accessKeyId,
        secretKey: "wrong-secret",
      },
      down: {
        host: "127.0.0.1",
        port: 1,
        tls: false,
        addressingStyle: "path",
        accessKey: "A",
        secretKey: "B",
      },
      fetched: { ...local },
      "cos-bucket": {
        host: "127.0.0.1",
        port: bearerPort,
        tls: false,
        addressingStyle: "path",
        apiKey: "good-api-key",
      },
    },
    iamTokenUrl: `http://127.0.0.1:${iamPort}/identity/token`,
    bucketCredentials: { env: { accessKeyVar: "FETCH_AK", secretKeyVar: "FETCH_SK" } },
  };
  writeFileSync(join(dir.path, "osp.config.json"), JSON.stringify(config));
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  killAllCli();
  await backend?.close();
  iam?.close();
  bearerBackend?.close();
  dir.remove();
});

const env = () => ({
  BACKEND_SK: BACKEND_KEY.secretAccessKey,
  FETCH_AK: BACKEND_KEY.accessKeyId,
  FETCH_SK: BACKEND_KEY.secretAccessKey,
});
const row = (stdout: string, bucket: string): string | undefined =>
  stdout.split("\n").find((line) => line.startsWith(`${bucket} `));

describe("osp check", () => {
  it("tables every bucket and exits 1 when a backend is unreachable or refuses the key", async () => {
    const result = await runCliProcess(["check", "--timeout", "5s"], { cwd: dir.path, env: env() });
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toContain("✔ configuration osp.config.json is valid");
    expect(out).toMatch(/^bucket +backend +credentials +result +ms$/m);
    expect(row(out, "good")).toMatch(
      new RegExp(
        `http://127\\.0\\.0\\.1:${backend.port}/good +static HMAC ${BACKEND_KEY.accessKeyId} +ok \\(200\\) +\\d+$`,
      ),
    );
    expect(row(out, "refused")).toMatch(
      /static HMAC \S+ +HTTP 403: credentials refused or no access to the bucket/,
    );
    expect(row(out, "down")).toMatch(/http:\/\/127\.0\.0\.1:1\/down +static HMAC A +ECONNREFUSED/);
    expect(row(out, "fetched")).toMatch(
      new RegExp(`fetched HMAC ${BACKEND_KEY.accessKeyId} +ok \\(200\\)`),
    );
    expect(row(out, "cos-bucket")).toMatch(/static API key → IAM +ok \(200\)/);
    expect(new URLSearchParams(iamForms[0]).get("grant_type")).toBe(
      "urn:ibm:params:oauth:grant-type:apikey",
    );
    expect(out).toContain("✘ 2 of 5 buckets failed");
    expect(out).not.toContain("good-api-key");
    expect(out).not.toContain(BACKEND_KEY.secretAccessKey);
  });

  it("exits 0 when every selected bucket answers", async () => {
    const result = await runCliProcess(["check", "--bucket", "good", "--bucket", "fetched"], {
      cwd: dir.path,
      env: env(),
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("✔ 2 buckets reachable");
  });

  it("reports a provider that cannot produce credentials", async () => {
    const result = await runCliProcess(["check", "--bucket", "fetched"], {
      cwd: dir.path,
      env: { BACKEND_SK: "x" },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("bucketCredentials.env: FETCH_AK and FETCH_SK not set");
    expect(row(result.stdout, "fetched")).toMatch(
      /error +credentials: .*FETCH_AK or FETCH_SK environment variable not set/,
    );
  });
});
