// Requests signed by the real AWS SDK for JavaScript v3, captured raw by a loopback server
// (path from req.url, headers from req.rawHeaders), verify; so do its presigned URLs.
import { createHash } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SigV4Error } from "../src/errors.ts";
import { nodeCryptoProvider } from "../src/node.ts";
import { createSigningKeyCache } from "../src/signing-key.ts";
import type { RawRequest } from "../src/types.ts";
import { verifyRequest, type VerifyOptions } from "../src/verify.ts";

interface Captured {
  request: RawRequest;
  body: Buffer;
  receivedAtMs: number;
}

const credentials = {
  accessKeyId: "AKIAOSPTESTKEY000001",
  secretAccessKey: "osp/test+secret=key/0123456789abcdefghij",
};
const HOSTILE_KEY = "dir//a/../b/./c d+e=f:g%h&i?j#k~'()*!$@,;é😀ሴ[x]{y}^|`\"<>";

let server: Server;
let endpoint: string;
let client: S3Client;
const captured: Captured[] = [];

/** Raw request as a server adapter must hand it to the verifier: nothing decoded or merged. */
const toRawRequest = (message: IncomingMessage): RawRequest => {
  const url = message.url ?? "/";
  const question = url.indexOf("?");
  const headers: Array<[string, string]> = [];
  for (let index = 0; index < message.rawHeaders.length; index += 2) {
    headers.push([message.rawHeaders[index]!, message.rawHeaders[index + 1]!]);
  }
  return {
    method: message.method ?? "GET",
    path: question < 0 ? url : url.slice(0, question),
    query: question < 0 ? "" : url.slice(question + 1),
    headers,
  };
};

const respond = (
  method: string,
  query: string,
): { status: number; headers: Record<string, string>; body: string } => {
  if (query.includes("list-type=2")) {
    return {
      status: 200,
      headers: { "content-type": "application/xml" },
      body: '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>',
    };
  }
  if (method === "GET")
    return { status: 200, headers: { "content-type": "text/plain", etag: '"e"' }, body: "hello" };
  return { status: 200, headers: { etag: '"etag"' }, body: "" };
};

const verifyOptions = (now: number): VerifyOptions => ({
  lookupSecret: (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
  now,
  region: "us-east-1",
  crypto: nodeCryptoProvider,
  signingKeyCache: createSigningKeyCache({ crypto: nodeCryptoProvider }),
});

const lastCaptured = (): Captured => {
  const last = captured.at(-1);
  if (last === undefined) throw new Error("the server captured no request");
  return last;
};

/** Sends a raw request-target exactly as given (fetch would normalise `..` and `//`). */
const sendRaw = (url: string, method: string, body?: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const parsed = /^http:\/\/([^/]+)(\/.*)$/.exec(url);
    if (parsed == null) {
      reject(new Error(`unexpected URL ${url}`));
      return;
    }
    const [host, port] = parsed[1]!.split(":");
    const req = httpRequest(
      {
        host,
        port: Number(port),
        method,
        path: parsed[2],
        headers: body === undefined ? {} : { "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });

beforeAll(async () => {
  server = createServer((message, response) => {
    const chunks: Buffer[] = [];
    message.on("data", (chunk: Buffer) => chunks.push(chunk));
    message.on("end", () => {
      const request = toRawRequest(message);
      captured.push({ request, body: Buffer.concat(chunks), receivedAtMs: Date.now() });
      const answer = respond(request.method, request.query);
      response.writeHead(answer.status, {
        ...answer.headers,
        "content-length": Buffer.byteLength(answer.body),
      });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) =>
    server === undefined ? resolve() : server.close(() => resolve()),
  );
});

describe("@aws-sdk/client-s3 requests captured on the wire", () => {
  it("verifies PutObject with a plain body, and the signed payload hash matches the body", async () => {
    await client.send(
      new PutObjectCommand({ Bucket: "bucket", Key: "plain.txt", Body: "Welcome to OSP." }),
    );
    const { request, body, receivedAtMs } = lastCaptured();
    const verified = await verifyRequest(request, verifyOptions(receivedAtMs));
    expect(verified.accessKeyId).toBe(credentials.accessKeyId);
    expect(verified.payloadMode).toBe("sha256");
    expect(verified.payloadHash).toBe(createHash("sha256").update(body).digest("hex"));
    expect(verified.signedHeaders).toContain("x-amz-content-sha256");
  });

  it("verifies GetObject", async () => {
    const output = await client.send(new GetObjectCommand({ Bucket: "bucket", Key: "plain.txt" }));
    await output.Body?.transformToString();
    const { request, receivedAtMs } = lastCaptured();
    expect(request.method).toBe("GET");
    expect((await verifyRequest(request, verifyOptions(receivedAtMs))).kind).toBe("header");
  });

  it("verifies ListObjectsV2 with a Unicode prefix", async () => {
    await client.send(
      new ListObjectsV2Command({ Bucket: "bucket", Prefix: "préfixe/ሴ 😀+=&/", Delimiter: "/" }),
    );
    const { request, receivedAtMs } = lastCaptured();
    expect(request.query).toContain("prefix=");
    expect((await verifyRequest(request, verifyOptions(receivedAtMs))).accessKeyId).toBe(
      credentials.accessKeyId,
    );
  });

  it("verifies PutObject and GetObject of a key with every hostile character", async () => {
    await client.send(new PutObjectCommand({ Bucket: "bucket", Key: HOSTILE_KEY, Body: "x" }));
    const put = lastCaptured();
    // The SDK keeps the dot segments and the double slash: nothing normalised them on the way.
    expect(put.request.path).toContain("dir//a/../b/./c");
    await expect(
      verifyRequest(put.request, verifyOptions(put.receivedAtMs)),
    ).resolves.toBeDefined();
    const output = await client.send(new GetObjectCommand({ Bucket: "bucket", Key: HOSTILE_KEY }));
    await output.Body?.transformToString();
    const get = lastCaptured();
    await expect(
      verifyRequest(get.request, verifyOptions(get.receivedAtMs)),
    ).resolves.toBeDefined();
  });

  it("refuses the captured PutObject once a signed byte changes or it is replayed late", async () => {
    await client.send(new PutObjectCommand({ Bucket: "bucket", Key: "replay.txt", Body: "data" }));
    const { request, receivedAtMs } = lastCaptured();
    const withAcl: RawRequest = {
      ...request,
      headers: [...request.headers, ["x-amz-acl", "public-read"]],
    };
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => "verified",
        (error: unknown) => (SigV4Error.is(error) ? error.code : "untyped"),
      );
    expect(await codeOf(verifyRequest(withAcl, verifyOptions(receivedAtMs)))).toBe("AccessDenied");
    expect(
      await codeOf(
        verifyRequest({ ...request, path: `${request.path}2` }, verifyOptions(receivedAtMs)),
      ),
    ).toBe("SignatureDoesNotMatch");
    expect(await codeOf(verifyRequest(request, verifyOptions(receivedAtMs + 16 * 60 * 1000)))).toBe(
      "RequestTimeTooSkewed",
    );
  });
});

describe("@aws-sdk/s3-request-presigner URLs", () => {
  const expiresIn = 120;
  const amzDateMs = (query: string): number => {
    const value = /X-Amz-Date=(\d{8}T\d{6}Z)/.exec(query)![1]!;
    return Date.parse(
      `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`,
    );
  };

  for (const key of ["plain.txt", HOSTILE_KEY]) {
    it(`verifies a presigned GET of ${key === HOSTILE_KEY ? "the hostile key" : key}, then refuses it after expiry`, async () => {
      const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: "bucket", Key: key }), {
        expiresIn,
      });
      expect(url).toContain("X-Amz-Content-Sha256=UNSIGNED-PAYLOAD");
      expect(await sendRaw(url, "GET")).toBe(200);
      const { request, receivedAtMs } = lastCaptured();
      const verified = await verifyRequest(request, verifyOptions(receivedAtMs));
      expect(verified.kind).toBe("query");
      expect(verified.payloadMode).toBe("unsigned");
      const expiredAt = amzDateMs(request.query) + expiresIn * 1000 + 1;
      const error = await verifyRequest(request, verifyOptions(expiredAt)).catch((e: unknown) => e);
      expect(SigV4Error.is(error) && error.code).toBe("AccessDenied");
      expect((error as Error).message).toBe("Request has expired");
    });
  }

  it("verifies a presigned PUT with its body, then refuses it after expiry", async () => {
    const url = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: "bucket", Key: "upload 1+1.txt" }),
      { expiresIn },
    );
    expect(await sendRaw(url, "PUT", "uploaded through a presigned URL")).toBe(200);
    const { request, body, receivedAtMs } = lastCaptured();
    expect(body.toString()).toBe("uploaded through a presigned URL");
    expect(request.method).toBe("PUT");
    expect((await verifyRequest(request, verifyOptions(receivedAtMs))).kind).toBe("query");
    const error = await verifyRequest(
      request,
      verifyOptions(amzDateMs(request.query) + expiresIn * 1000 + 1),
    ).catch((e: unknown) => e);
    expect(SigV4Error.is(error) && error.code).toBe("AccessDenied");
    // The same URL used with another method does not verify.
    const asDelete = await verifyRequest(
      { ...request, method: "DELETE" },
      verifyOptions(receivedAtMs),
    ).catch((e: unknown) => e);
    expect(SigV4Error.is(asDelete) && asDelete.code).toBe("SignatureDoesNotMatch");
  });
});
