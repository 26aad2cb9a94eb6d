// Health, readiness, metrics, request counting and logs: the request id ties a response to its
// access and audit lines, and no log line ever holds a secret, a signature or a token.
import { randomBytes } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { LocalS3 } from "@osp/local-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  disableRequestCounting,
  enableRequestCounting,
  getRequestCount,
  resetRequestCount,
  type ServerHandle,
} from "../src/index.ts";
import {
  BACKEND,
  BUCKET,
  CLIENT,
  LogCapture,
  ospConfig,
  s3Client,
  send,
  signedSend,
  startBackend,
  startOsp,
} from "./support/harness.ts";
import { signatureOf } from "./support/sigv4-client.ts";

const metricValue = (text: string, series: string): number => {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line == null ? 0 : Number(line.slice(series.length + 1));
};

describe("health, metrics, logs", () => {
  let backend: LocalS3;
  let osp: ServerHandle;
  let client: S3Client;
  const logs = new LogCapture();
  const sentSignatures: string[] = [];
  const SESSION_TOKEN = "session-token-that-must-not-be-logged";

  beforeAll(async () => {
    backend = await startBackend();
    osp = await startOsp(
      ospConfig(backend.port, {
        adminPort: 0,
        logDestination: logs,
        virtualHostDomains: ["s3.osp.test"],
        validator: (_token, _bucket, request) => request.key !== "forbidden",
        // The validator looks at the key, so decisions are cached per object.
        validatorCacheKey: "object",
      }),
    );
    client = s3Client(osp.http!.url);
    // Keep every signature the client sends, to prove none reaches a log line.
    client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        if (headers.authorization != null) sentSignatures.push(signatureOf(headers.authorization));
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "captureSignature" },
    );
  });

  afterAll(async () => {
    client?.destroy();
    await osp?.close();
    await backend?.close();
  });

  it("answers healthz and readyz on the main listener and the admin port", async () => {
    for (const base of [osp.http!.url, osp.admin!.url]) {
      const health = await send(`${base}/-/osp/healthz`);
      expect([health.status, health.body.toString()]).toEqual([200, "ok\n"]);
      expect(health.headers["x-amz-request-id"]).toMatch(/^[0-9A-F]{16}$/);
      const ready = await send(`${base}/-/osp/readyz`);
      expect([ready.status, ready.body.toString()]).toEqual([200, "ready\n"]);
    }
    expect((await send(`${osp.admin!.url}/healthz`)).status).toBe(200);
    expect((await send(`${osp.admin!.url}/metrics`)).headers["content-type"]).toMatch(
      /^text\/plain; version=0\.0\.4/,
    );
  });

  it("refuses other methods and unknown admin paths", async () => {
    expect(
      (await send(`${osp.http!.url}/-/osp/healthz`, { method: "POST", body: "x" })).status,
    ).toBe(405);
    expect((await send(`${osp.http!.url}/-/osp/nothing-here`)).status).toBe(404);
  });

  it("treats /-/osp/ on a virtual-host bucket name as an object key, not an admin path", async () => {
    const response = await send(`${osp.http!.url}/-/osp/healthz`, {
      headers: { host: `${BUCKET}.s3.osp.test` },
    });
    // Anonymous request for a key: the proxy answers it, not the health endpoint.
    expect(response.status).toBe(403);
    expect(response.body.toString()).toContain("<Error>");
  });

  it("moves the request counters, byte counters and phase histograms", async () => {
    const before = (await send(`${osp.http!.url}/-/osp/metrics`)).body.toString();
    const body = randomBytes(4096);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "metrics/a", Body: body }));
    await client
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: "metrics/a" }))
      .then((output) => output.Body!.transformToByteArray());
    await expect(
      client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "forbidden" })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    await expect
      .poll(async () => {
        const after = (await send(`${osp.admin!.url}/metrics`)).body.toString();
        return [
          metricValue(after, 'osp_requests_total{operation="PutObject",status="200"}') -
            metricValue(before, 'osp_requests_total{operation="PutObject",status="200"}'),
          metricValue(after, 'osp_requests_total{operation="GetObject",status="200"}') -
            metricValue(before, 'osp_requests_total{operation="GetObject",status="200"}'),
          metricValue(after, 'osp_requests_total{operation="GetObject",status="403"}') -
            metricValue(before, 'osp_requests_total{operation="GetObject",status="403"}'),
          metricValue(after, "osp_bytes_sent_total") -
            metricValue(before, "osp_bytes_sent_total") >=
            4096,
          metricValue(after, 'osp_phase_duration_seconds_count{phase="authenticate"}') >
            metricValue(before, 'osp_phase_duration_seconds_count{phase="authenticate"}'),
          metricValue(after, 'osp_phase_duration_seconds_count{phase="upstream"}') >
            metricValue(before, 'osp_phase_duration_seconds_count{phase="upstream"}'),
          metricValue(after, "osp_requests_in_flight"),
        ];
      })
      .toEqual([1, 1, 1, true, true, true, 0]);
  });

  it("counts authorized requests while counting is enabled", async () => {
    resetRequestCount();
    disableRequestCounting();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "count/a", Body: "a" }));
    expect(getRequestCount()).toBe(0);
    enableRequestCounting();
    try {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "count/b", Body: "b" }));
      await client
        .send(new GetObjectCommand({ Bucket: BUCKET, Key: "count/b" }))
        .then((output) => output.Body!.transformToString());
      await expect(
        client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "forbidden" })),
      ).rejects.toThrow();
      expect(getRequestCount()).toBe(2);
    } finally {
      disableRequestCounting();
      resetRequestCount();
    }
  });

  it("logs one access line per request and an audit line per authorization, under the response's request id", async () => {
    const response = await signedSend(osp.http!.url, { path: "/test-bucket/forbidden" });
    expect(response.status).toBe(403);
    const requestId = response.headers["x-amz-request-id"];
    await expect
      .poll(() => logs.records().filter((record) => record.requestId === requestId).length)
      .toBe(2);
    const lines = logs.records().filter((record) => record.requestId === requestId);
    const access = lines.find((record) => record.log === "access");
    expect(access).toMatchObject({
      level: "info",
      msg: "request",
      method: "GET",
      path: "/test-bucket/forbidden",
      query: "",
      status: 403,
      errorCode: "AccessDenied",
      operation: "GetObject",
      bucket: BUCKET,
      accessKeyId: CLIENT.accessKeyId,
      remoteAddress: "127.0.0.1",
      httpVersion: "1.1",
      bytesIn: 0,
    });
    expect(access!.durationMs).toEqual(expect.any(Number));
    expect(access!.bytesOut).toBeGreaterThan(0);
    expect("aborted" in access!).toBe(false);
    expect(lines.find((record) => record.log === "audit")).toMatchObject({
      accessKeyId: CLIENT.accessKeyId,
      bucket: BUCKET,
      operation: "GetObject",
      method: "GET",
      allowed: false,
    });
  });

  it("audits every denial, and a grant only when the validator decided it (not a cached grant)", async () => {
    const auditLines = (requestId: string) =>
      logs.records().filter((record) => record.requestId === requestId && record.log === "audit");
    const accessLines = (requestId: string) =>
      logs.records().filter((record) => record.requestId === requestId && record.log === "access");
    const ids: string[] = [];
    for (const path of [
      "/test-bucket/audit/granted",
      "/test-bucket/audit/granted",
      "/test-bucket/forbidden",
      "/test-bucket/forbidden",
    ]) {
      const response = await signedSend(osp.http!.url, { path });
      ids.push(String(response.headers["x-amz-request-id"]));
    }
    await expect.poll(() => ids.every((id) => accessLines(id).length === 1)).toBe(true);
    expect(
      ids.map((id) => auditLines(id).map((record) => [record.allowed, record.cached])),
    ).toEqual([[[true, false]], [], [[false, true]], [[false, true]]]);
  });

  it("never writes a secret, signature or token to the logs", async () => {
    const presigned = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: BUCKET, Key: "metrics/a" }),
      { expiresIn: 60 },
    );
    const presignedSignature = new URL(presigned).searchParams.get("X-Amz-Signature")!;
    expect((await fetch(presigned)).status).toBe(200);
    const withToken = await signedSend(osp.http!.url, {
      path: "/test-bucket/metrics/a",
      headers: { "x-amz-security-token": SESSION_TOKEN },
    });
    expect(withToken.headers["x-amz-request-id"]).toMatch(/^[0-9A-F]{16}$/);
    const presignedWithToken = `${presigned}&X-Amz-Security-Token=${SESSION_TOKEN}`;
    await fetch(presignedWithToken);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "metrics/b", Body: "b" }));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const text = logs.text();
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(sentSignatures.length).toBeGreaterThan(3);
    for (const secret of [
      CLIENT.secretAccessKey,
      BACKEND.secretAccessKey,
      SESSION_TOKEN,
      presignedSignature,
      ...sentSignatures,
    ]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text.includes(secret), `log holds ${secret.slice(0, 6)}…`).toBe(false);
    }
    expect(text).not.toMatch(/AWS4-HMAC-SHA256 Credential/);
    expect(text).not.toMatch(/X-Amz-Signature=[0-9a-f]/i);
  });
});
