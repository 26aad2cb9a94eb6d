// `Expect: 100-continue` and early answers, on raw sockets: `100` only after authentication and
// authorization; an answer given before the upload was read reaches the client.
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import type { LocalS3 } from "@osp/local-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerHandle } from "../src/index.ts";
import { CLIENT, ospConfig, startBackend, startOsp } from "./support/harness.ts";
import { signRequest } from "./support/sigv4-client.ts";

/** Reads from a socket until `done(text)` holds; resolves with all text read so far. */
const readUntil = (
  socket: Socket,
  done: (text: string) => boolean,
  timeoutMs = 5_000,
): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out; read so far: ${JSON.stringify(text)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (done(text)) {
        cleanup();
        resolve(text);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(text);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
  });

/** True once `text` holds a complete response whose body length is announced. */
const hasCompleteFinalResponse = (text: string): boolean => {
  const start = text.search(/HTTP\/1\.1 [2-5]\d\d/);
  if (start < 0) return false;
  const headEnd = text.indexOf("\r\n\r\n", start);
  if (headEnd < 0) return false;
  const length = /content-length: (\d+)/i.exec(text.slice(start, headEnd))?.[1];
  return length != null && text.length >= headEnd + 4 + Number(length);
};

const requestHead = (method: string, path: string, headers: Record<string, string>): string =>
  `${method} ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("")}\r\n`;

describe("Expect: 100-continue and early answers", () => {
  let backend: LocalS3;
  let osp: ServerHandle;
  let host: string;
  const sockets: Socket[] = [];

  const open = async (): Promise<Socket> => {
    const url = new URL(osp.http!.url);
    const socket = connect(Number(url.port), url.hostname);
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    return socket;
  };

  beforeAll(async () => {
    backend = await startBackend();
    osp = await startOsp(ospConfig(backend.port, { logLevel: "silent" }));
    host = new URL(osp.http!.url).host;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await osp?.close();
    await backend?.close();
  });

  it("answers a bad signature with 403 and never sends 100 Continue", async () => {
    const socket = await open();
    const headers = signRequest({
      method: "PUT",
      host,
      path: "/test-bucket/expect/denied",
      credentials: { accessKeyId: CLIENT.accessKeyId, secretAccessKey: "not-the-secret" },
      headers: { "content-length": "1048576", expect: "100-continue" },
    });
    socket.write(requestHead("PUT", "/test-bucket/expect/denied", headers));
    const text = await readUntil(socket, hasCompleteFinalResponse);
    expect(text.startsWith("HTTP/1.1 403 ")).toBe(true);
    expect(text).not.toContain("100 Continue");
    expect(text).toContain("<Code>SignatureDoesNotMatch</Code>");
    // The client was never told to send the body, so the connection cannot be reused.
    expect(text).toMatch(/connection: close/i);
  });

  it("sends 100 Continue after authentication, then stores the body", async () => {
    const socket = await open();
    const body = randomBytes(64 * 1024);
    const headers = signRequest({
      method: "PUT",
      host,
      path: "/test-bucket/expect/allowed",
      credentials: CLIENT,
      headers: { "content-length": String(body.byteLength), expect: "100-continue" },
    });
    socket.write(requestHead("PUT", "/test-bucket/expect/allowed", headers));
    const interim = await readUntil(socket, (text) => text.includes("\r\n\r\n"));
    expect(interim).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    socket.write(body);
    const final = await readUntil(socket, hasCompleteFinalResponse);
    expect(final.startsWith("HTTP/1.1 200 ")).toBe(true);
    expect(final).toMatch(/etag: "[0-9a-f]{32}"/i);
  });

  it("drains a small unread upload after an early answer and keeps the connection", async () => {
    const socket = await open();
    const body = randomBytes(10_000);
    const headers = signRequest({
      method: "PUT",
      host,
      path: "/test-bucket/early/small",
      credentials: { accessKeyId: "UNKNOWNKEY", secretAccessKey: "x" },
      headers: { "content-length": String(body.byteLength) },
    });
    socket.write(requestHead("PUT", "/test-bucket/early/small", headers));
    socket.write(body);
    const first = await readUntil(socket, hasCompleteFinalResponse);
    expect(first.startsWith("HTTP/1.1 403 ")).toBe(true);
    expect(first).toContain("<Code>InvalidAccessKeyId</Code>");
    expect(first).not.toMatch(/connection: close/i);
    socket.write(requestHead("GET", "/-/osp/healthz", { host }));
    const second = await readUntil(socket, hasCompleteFinalResponse);
    expect(second.startsWith("HTTP/1.1 200 ")).toBe(true);
    expect(second.endsWith("ok\n")).toBe(true);
  });

  it("delivers the answer to a large upload it refuses, then closes the connection", async () => {
    const size = 32 * 1024 * 1024;
    const headers = signRequest({
      method: "PUT",
      host,
      path: "/test-bucket/early/large",
      credentials: { accessKeyId: CLIENT.accessKeyId, secretAccessKey: "wrong" },
      headers: { "content-length": String(size) },
    });
    const answer = await new Promise<{ status: number; body: string; connection?: string }>(
      (resolve, reject) => {
        const req = httpRequest(
          `${osp.http!.url}/test-bucket/early/large`,
          { method: "PUT", headers, agent: false },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                body: text,
                connection: res.headers.connection,
              }),
            );
          },
        );
        // Writing may fail once the server stops reading; the answer is what counts.
        req.on("error", (error) => {
          if (!req.writableEnded) reject(error);
        });
        const chunk = Buffer.alloc(256 * 1024, 7);
        let written = 0;
        const pump = () => {
          while (written < size) {
            written += chunk.byteLength;
            if (!req.write(chunk)) {
              req.once("drain", pump);
              return;
            }
          }
          req.end();
        };
        pump();
      },
    );
    expect(answer.status).toBe(403);
    expect(answer.body).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect(answer.connection).toBe("close");
  });
});
