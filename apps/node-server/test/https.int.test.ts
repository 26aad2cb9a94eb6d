// The TLS listener: HTTP/2 and HTTP/1.1 chosen by ALPN, certificate from PEM text, from files and
// from TLS_CERT_PATH/TLS_KEY_PATH, with a self-signed certificate made for the test.
import { createHash, randomBytes } from "node:crypto";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { connect as http2Connect, type ClientHttp2Session } from "node:http2";
import type { TLSSocket } from "node:tls";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { LocalS3 } from "@osp/local-s3";
import { createSelfSignedCertificate, type SelfSignedCertificate } from "@osp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveServerConfig, type ServerHandle } from "../src/index.ts";
import { BUCKET, CLIENT, ospConfig, s3Client, startBackend, startOsp } from "./support/harness.ts";
import { signRequest } from "./support/sigv4-client.ts";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

interface Http2Answer {
  status: number;
  headers: Record<string, unknown>;
  body: Buffer;
}

const http2Request = (
  session: ClientHttp2Session,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Http2Answer> =>
  new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body == null });
    const chunks: Buffer[] = [];
    let responseHeaders: Record<string, unknown> = {};
    stream.on("response", (received) => {
      responseHeaders = received;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () =>
      resolve({
        status: Number(responseHeaders[":status"]),
        headers: responseHeaders,
        body: Buffer.concat(chunks),
      }),
    );
    stream.on("error", reject);
    if (body != null) stream.end(body);
  });

describe("HTTPS listener (HTTP/2 + HTTP/1.1 by ALPN)", () => {
  let certificate: SelfSignedCertificate;
  let backend: LocalS3;
  let osp: ServerHandle;

  beforeAll(async () => {
    certificate = createSelfSignedCertificate();
    backend = await startBackend();
    osp = await startOsp(
      ospConfig(backend.port, {
        httpPort: undefined,
        httpsPort: 0,
        tlsCert: certificate.cert,
        tlsKey: certificate.key,
        logLevel: "silent",
      }),
    );
  });

  afterAll(async () => {
    await osp?.close();
    await backend?.close();
    certificate?.remove();
  });

  it("negotiates h2 and serves a signed PUT and GET over HTTP/2", async () => {
    const url = new URL(osp.https!.url);
    const session = http2Connect(osp.https!.url, { ca: certificate.cert });
    try {
      await new Promise<void>((resolve, reject) => {
        session.once("connect", () => resolve());
        session.once("error", reject);
      });
      expect((session.socket as TLSSocket).alpnProtocol).toBe("h2");
      const body = randomBytes(200_000);
      const path = "/test-bucket/h2/object%20one";
      const putHeaders = signRequest({
        method: "PUT",
        host: url.host,
        path,
        credentials: CLIENT,
        headers: { "content-length": String(body.byteLength) },
      });
      delete putHeaders.host;
      const put = await http2Request(
        session,
        {
          ":method": "PUT",
          ":path": path,
          ":authority": url.host,
          ":scheme": "https",
          ...putHeaders,
        },
        body,
      );
      expect(put.status).toBe(200);
      expect(put.headers["x-amz-request-id"]).toMatch(/^[0-9A-F]{16}$/);

      const getHeaders = signRequest({ method: "GET", host: url.host, path, credentials: CLIENT });
      delete getHeaders.host;
      const get = await http2Request(session, {
        ":method": "GET",
        ":path": path,
        ":authority": url.host,
        ":scheme": "https",
        ...getHeaders,
      });
      expect(get.status).toBe(200);
      expect(sha256(get.body)).toBe(sha256(body));
      expect(get.headers.server).toBe("OSP");

      const health = await http2Request(session, {
        ":method": "GET",
        ":path": "/-/osp/healthz",
        ":authority": url.host,
        ":scheme": "https",
      });
      expect(health.status).toBe(200);
      expect(health.body.toString()).toBe("ok\n");
    } finally {
      session.close();
    }
  });

  it("falls back to HTTP/1.1 over TLS", async () => {
    const answer = await new Promise<{
      status: number;
      protocol: string | false | null;
      body: string;
    }>((resolve, reject) => {
      const req = httpsRequest(
        `${osp.https!.url}/-/osp/readyz`,
        {
          ca: certificate.cert,
          agent: new HttpsAgent({ ca: certificate.cert, ALPNProtocols: ["http/1.1"] }),
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              protocol: (res.socket as TLSSocket).alpnProtocol,
              body: text,
            }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(answer).toEqual({ status: 200, protocol: "http/1.1", body: "ready\n" });
  });

  it("serves the AWS SDK over HTTPS", async () => {
    const agent = new HttpsAgent({ ca: certificate.cert, keepAlive: true });
    const client = s3Client(osp.https!.url, { requestHandler: { httpsAgent: agent } });
    try {
      const body = randomBytes(3 * 1024 * 1024);
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "tls/sdk.bin", Body: body }));
      const output = await client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: "tls/sdk.bin" }),
      );
      expect(sha256(await output.Body!.transformToByteArray())).toBe(sha256(body));
    } finally {
      client.destroy();
      agent.destroy();
    }
  });
});

describe("TLS material sources", () => {
  let certificate: SelfSignedCertificate;
  beforeAll(() => {
    certificate = createSelfSignedCertificate();
  });
  afterAll(() => certificate?.remove());

  const base = {
    httpsPort: 0,
    cosMap: { b: { host: "s3.example.com", accessKey: "a", secretKey: "s" } },
  };

  it("reads TLS_CERT_PATH and TLS_KEY_PATH as the predecessor did", () => {
    const { settings } = resolveServerConfig(base, {
      TLS_CERT_PATH: certificate.certPath,
      TLS_KEY_PATH: certificate.keyPath,
    });
    expect(settings.tls).toMatchObject({
      source: "env",
      cert: certificate.cert,
      key: certificate.key,
    });
  });

  it("prefers tlsCertPath/tlsKeyPath from the config over the environment", () => {
    const { settings } = resolveServerConfig(
      { ...base, tls_cert_path: certificate.certPath, tls_key_path: certificate.keyPath },
      { TLS_CERT_PATH: "/nonexistent/cert.pem", TLS_KEY_PATH: "/nonexistent/key.pem" },
    );
    expect(settings.tls?.source).toBe("files");
  });

  it("names the missing variables when HTTPS has no certificate", () => {
    expect(() => resolveServerConfig(base, {})).toThrow(/TLS_CERT_PATH\/TLS_KEY_PATH/);
  });

  it("reports an unreadable certificate file by path without content", () => {
    expect(() =>
      resolveServerConfig(base, {
        TLS_CERT_PATH: "/nonexistent/c.pem",
        TLS_KEY_PATH: certificate.keyPath,
      }),
    ).toThrow(/TLS_CERT_PATH: cannot read "\/nonexistent\/c.pem" \(ENOENT\)/);
  });

  it("rejects a key that does not belong to the certificate, without printing the key", () => {
    const other = createSelfSignedCertificate();
    try {
      let message = "";
      try {
        resolveServerConfig({ ...base, tlsCert: certificate.cert, tlsKey: other.key }, {});
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/tls: the certificate and key \(config\) cannot be used/);
      expect(message).not.toContain("PRIVATE KEY");
    } finally {
      other.remove();
    }
  });
});
