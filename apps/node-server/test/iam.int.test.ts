// The IBM bearer path as the server wires it: iamTokenUrl points the token provider at a fake
// IAM; the backend sees `Authorization: Bearer <token>` and never the API key; the token is
// cached across requests and reported as the `iam` cache in the metrics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerHandle } from "../src/index.ts";
import {
  BUCKET,
  CLIENT,
  LogCapture,
  send,
  signedSend,
  startControlledBackend,
  startOsp,
} from "./support/harness.ts";

const API_KEY = "ibm-api-key-that-must-stay-secret";
const TOKEN = "bearer-token-from-fake-iam";

describe("IBM IAM bearer tokens", () => {
  let iam: Awaited<ReturnType<typeof startControlledBackend>>;
  let backend: Awaited<ReturnType<typeof startControlledBackend>>;
  let osp: ServerHandle;
  const iamBodies: string[] = [];
  const backendAuthorizations: string[] = [];
  const logs = new LogCapture();

  beforeAll(async () => {
    iam = await startControlledBackend((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        iamBodies.push(body);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            access_token: TOKEN,
            token_type: "Bearer",
            expires_in: 3600,
            expiration: Math.floor(Date.now() / 1000) + 3600,
          }),
        );
      });
    });
    backend = await startControlledBackend((req, res) => {
      backendAuthorizations.push(String(req.headers.authorization));
      req.resume();
      res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
      res.end("ok");
    });
    osp = await startOsp({
      httpPort: 0,
      bindAddress: "127.0.0.1",
      dotenv: false,
      handleSignals: false,
      logDestination: logs,
      iamTokenUrl: `http://127.0.0.1:${iam.port}/identity/token`,
      cosMap: {
        [BUCKET]: {
          host: "127.0.0.1",
          port: backend.port,
          tls: false,
          addressingStyle: "path",
          apiKey: API_KEY,
        },
      },
      hmacKeystore: [{ accessKey: CLIENT.accessKeyId, secretKey: CLIENT.secretAccessKey }],
    });
  });

  afterAll(async () => {
    await osp?.close();
    await backend?.close();
    await iam?.close();
  });

  it("exchanges the API key once and sends the bearer token to the backend", async () => {
    for (let i = 0; i < 3; i += 1) {
      const response = await signedSend(osp.http!.url, { path: `/test-bucket/object-${i}` });
      expect(response.status).toBe(200);
      expect(response.body.toString()).toBe("ok");
    }
    expect(iamBodies).toHaveLength(1);
    expect(iamBodies[0]).toContain("grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey");
    expect(backendAuthorizations).toEqual([
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
    ]);
    const metrics = (await send(`${osp.http!.url}/-/osp/metrics`)).body.toString();
    expect(metrics).toMatch(/^osp_cache_events_total\{cache="iam",result="miss"\} 1$/m);
    expect(metrics).toMatch(/^osp_cache_events_total\{cache="iam",result="hit"\} 2$/m);
    expect(logs.text()).not.toContain(API_KEY);
    expect(logs.text()).not.toContain(TOKEN);
  });
});
