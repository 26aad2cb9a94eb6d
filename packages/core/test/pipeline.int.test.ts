// The pipeline against the recording backend: addressing, header forwarding, copies, responses
// and proxy-made errors. Every backend request is verified by the independent verifier (smithy);
// a test that expects a forwarded request also expects `verification === "ok"`.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signedClientRequest } from "./support/client.ts";
import {
  BACKEND_KEYS,
  createHarness,
  START,
  standardConfig,
  type Harness,
} from "./support/harness.ts";

const get = (path: string, extra: Partial<Parameters<typeof signedClientRequest>[0]> = {}) =>
  signedClientRequest({ method: "GET", path, signingDate: START, ...extra });
const put = (
  path: string,
  body: string | Buffer,
  extra: Partial<Parameters<typeof signedClientRequest>[0]> = {},
) =>
  signedClientRequest({
    method: "PUT",
    path,
    body: Buffer.from(body),
    signingDate: START,
    ...extra,
  });

describe("pipeline (recording backend, independent verifier)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());
  afterEach(() => {
    h.backend.intercept(undefined);
  });

  const lastRequest = () => h.backend.requests.at(-1)!;
  const header = (name: string) => lastRequest().headers.get(name)?.[0];

  it("§10 path-style addressing: PUT then GET round-trips through a re-signed request", async () => {
    expect((await h.send(put("/data/docs/readme.txt", "hello"))).status).toBe(200);
    expect(lastRequest()).toMatchObject({
      method: "PUT",
      path: "/data/docs/readme.txt",
      verification: "ok",
    });
    const response = await h.send(get("/data/docs/readme.txt"));
    expect([response.status, response.text]).toEqual([200, "hello"]);
  });

  it("D-10: splits the key by position (/logs/logs is key 'logs' of bucket 'logs')", async () => {
    await h.send(put("/logs/logs", "the log"));
    expect(lastRequest()).toMatchObject({ path: "/logs/logs", verification: "ok" });
    expect(h.backend.objects.get("logs/logs")?.toString()).toBe("the log");
  });

  it("keeps +, %2F, unicode and // in keys byte for byte, and the backend's signature still verifies", async () => {
    for (const path of [
      "/data/a+b",
      "/data/a%2Bb",
      "/data/dir%2Fname",
      "/data/%E2%9C%93%20ok",
      "/data//double//slash",
    ]) {
      const response = await h.send(put(path, `body of ${path}`));
      expect(response.status, path).toBe(200);
      expect(lastRequest().path).toBe(path);
      expect(lastRequest().verification).toBe("ok");
      expect((await h.send(get(path))).text).toBe(`body of ${path}`);
    }
    // "+" is a plus, never a space; %2F stays inside the key.
    expect(h.backend.objects.has("data/a+b")).toBe(true);
    expect(h.backend.objects.has("data/dir/name")).toBe(true);
  });

  it("§10 virtual-host addressing in front and at the backend, with the bucket alias applied", async () => {
    const response = await h.send(
      put("/v/key.txt", "virtual", { host: "virtual.proxy.test:6190" }),
    );
    expect(response.status).toBe(200);
    expect(lastRequest()).toMatchObject({ path: "/v/key.txt", verification: "ok" });
    expect(header("host")).toBe(`real-bucket.s3.test:${h.backend.port}`);
    expect(h.backend.objects.get("real-bucket/v/key.txt")?.toString()).toBe("virtual");
    const listing = await h.send(
      get("/", { host: "virtual.proxy.test", query: "list-type=2&prefix=v%2F" }),
    );
    expect(listing.status).toBe(200);
    expect(lastRequest()).toMatchObject({
      path: "/",
      query: "list-type=2&prefix=v%2F",
      verification: "ok",
    });
  });

  it("D-8: forwards every S3 semantic header, signed, and strips hop-by-hop, proxy and client-auth headers", async () => {
    await h.send(
      put("/data/meta.txt", "meta", {
        headers: [
          ["Content-Type", "text/plain; charset=utf-8"],
          ["Content-MD5", "mlo8d3tY2vwfq3XzVC6H8w=="],
          ["Content-Disposition", "attachment"],
          ["Content-Language", "en"],
          ["Cache-Control", "max-age=60"],
          ["Expires", "Thu, 01 Dec 2033 16:00:00 GMT"],
          ["x-amz-meta-colour", "blue"],
          ["x-amz-acl", "private"],
          ["x-amz-tagging", "a=b"],
          ["x-amz-storage-class", "STANDARD"],
          ["x-amz-server-side-encryption", "AES256"],
          ["If-None-Match", "*"],
        ],
        unsignedHeaders: [
          ["Connection", "keep-alive"],
          ["X-Forwarded-For", "10.0.0.1"],
          ["Forwarded", "for=10.0.0.1"],
          ["Via", "1.1 lb"],
          ["Accept-Encoding", "gzip"],
          ["Origin", "https://app.example"],
        ],
      }),
    );
    const request = lastRequest();
    expect(request.verification).toBe("ok");
    for (const [name, value] of [
      ["content-type", "text/plain; charset=utf-8"],
      ["content-md5", "mlo8d3tY2vwfq3XzVC6H8w=="],
      ["content-disposition", "attachment"],
      ["content-language", "en"],
      ["cache-control", "max-age=60"],
      ["expires", "Thu, 01 Dec 2033 16:00:00 GMT"],
      ["x-amz-meta-colour", "blue"],
      ["x-amz-acl", "private"],
      ["x-amz-tagging", "a=b"],
      ["x-amz-storage-class", "STANDARD"],
      ["x-amz-server-side-encryption", "AES256"],
      ["if-none-match", "*"],
      ["origin", "https://app.example"],
    ]) {
      expect(header(name!), name).toBe(value);
    }
    for (const name of ["x-forwarded-for", "forwarded", "via", "accept-encoding", "expect"])
      expect(header(name), name).toBeUndefined();
    // The client's credentials never reach the backend.
    expect(header("authorization")).toMatch(/^AWS4-HMAC-SHA256 Credential=BACKENDKEY\//);
    expect(request.rawHeaders.join("\n")).not.toContain("CLIENTKEY");
  });

  it("§10 re-signs keeping the client's payload hash, so the backend checks the body itself", async () => {
    const request = await put("/data/hash.txt", "payload");
    const clientHash = request.headers.find(([name]) => name === "x-amz-content-sha256")![1];
    await h.send(request);
    expect(header("x-amz-content-sha256")).toBe(clientHash);
    expect(lastRequest().verification).toBe("ok");
  });

  it("§10 Range is forwarded and the partial answer passes through", async () => {
    await h.send(put("/data/range.txt", "0123456789"));
    h.backend.intercept((request, response) => {
      response.writeHead(206, {
        "content-range": "bytes 2-4/10",
        "content-length": 3,
        "x-amz-request-id": "B",
      });
      response.end("234");
      return request.headers.range === "bytes=2-4";
    });
    const response = await h.send(get("/data/range.txt", { headers: [["Range", "bytes=2-4"]] }));
    expect([response.status, response.text, response.header("content-range")]).toEqual([
      206,
      "234",
      "bytes 2-4/10",
    ]);
  });

  it("D-7: CopyObject forwards x-amz-copy-source and its directives: the copy is not a 0-byte write", async () => {
    await h.send(put("/data/original.bin", "original content"));
    const response = await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/data/copy.bin",
        signingDate: START,
        headers: [
          ["x-amz-copy-source", "/data/original.bin"],
          ["x-amz-metadata-directive", "REPLACE"],
          ["x-amz-copy-source-if-match", '"x"'],
        ],
      }),
    );
    expect(response.status).toBe(200);
    expect(response.text).toContain("CopyObjectResult");
    expect(header("x-amz-copy-source")).toBe("/data/original.bin");
    expect(header("x-amz-metadata-directive")).toBe("REPLACE");
    expect(header("content-length")).toBe("0");
    expect(lastRequest().verification).toBe("ok");
    expect(h.backend.objects.get("data/copy.bin")?.toString()).toBe("original content");
  });

  it("D-7: rewrites an aliased copy source (URL-encoded key and versionId kept)", async () => {
    await h.send(put("/aliased/src%2Bkey", "aliased source"));
    expect(h.backend.objects.get("aliased-real/src+key")?.toString()).toBe("aliased source");
    const response = await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/aliased/dst",
        signingDate: START,
        headers: [["x-amz-copy-source", "aliased/src%2Bkey?versionId=null"]],
      }),
    );
    expect(response.status).toBe(200);
    expect(header("x-amz-copy-source")).toBe("aliased-real/src%2Bkey?versionId=null");
    expect(lastRequest().verification).toBe("ok");
  });

  it("D-7: refuses a copy source outside the served buckets (no backend access by the back door)", async () => {
    const before = h.backend.requests.length;
    const response = await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/data/steal",
        signingDate: START,
        headers: [["x-amz-copy-source", "/backend-private/secret.txt"]],
      }),
    );
    expect(response.status).toBe(404);
    expect(response.text).toContain("<Code>NoSuchBucket</Code>");
    expect(h.backend.requests.length).toBe(before);
  });

  it("§10 response passthrough: a backend error (status, headers, XML body) reaches the client unchanged except Server", async () => {
    const response = await h.send(get("/data/does-not-exist"));
    expect(response.status).toBe(404);
    expect(response.text).toContain(
      "<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>BACKEND</RequestId>",
    );
    expect(response.header("x-amz-request-id")).toBe("BACKEND");
    expect(response.header("server")).toBe("OSP");
    expect(
      response.response.headers.filter(([name]) => name.toLowerCase() === "server"),
    ).toHaveLength(1);
  });

  it("§10 Server header on proxied answers; hop-by-hop response headers are dropped", async () => {
    await h.send(put("/data/server.txt", "s"));
    const response = await h.send(get("/data/server.txt"));
    expect(response.header("server")).toBe("OSP");
    expect(response.header("connection")).toBeUndefined();
    expect(response.header("keep-alive")).toBeUndefined();
    expect(response.header("x-amz-id-2")).toBe("backend-host-id");
  });

  it("D-16/D-25: an unknown bucket is a 404 NoSuchBucket S3 XML error, and nothing is sent anywhere", async () => {
    const before = h.transport.sent.length;
    const response = await h.send(get("/no-such-bucket/key"));
    expect(response.status).toBe(404);
    expect(response.header("content-type")).toBe("application/xml");
    expect(response.header("x-amz-request-id")).toBe("REQ0000000000001");
    expect(response.text).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist.</Message><Resource>/no-such-bucket/key</Resource><RequestId>REQ0000000000001</RequestId></Error>',
    );
    expect(h.transport.sent.length).toBe(before);
  });

  it("D-16: proxy errors to HEAD carry no body but say the code in x-amz-error-code", async () => {
    const response = await h.send(
      signedClientRequest({ method: "HEAD", path: "/no-such-bucket/key", signingDate: START }),
    );
    expect(response.status).toBe(404);
    expect(response.response.body).toBeNull();
    expect(response.header("x-amz-error-code")).toBe("NoSuchBucket");
  });

  it("D-11: GET / lists the configured buckets as S3 XML", async () => {
    const response = await h.send(get("/"));
    expect(response.status).toBe(200);
    expect(response.header("content-type")).toBe("application/xml");
    for (const name of ["aliased", "data", "ibm", "legacy", "logs", "virtual"])
      expect(response.text).toContain(`<Name>${name}</Name>`);
    expect(response.text).toContain("<Owner><ID>CLIENTKEY</ID>");
  });

  it("§10 request counting: opt-in, counts authorized requests only, resets", async () => {
    h.proxy.requestCounter.reset();
    await h.send(get("/data/readme"));
    expect(h.proxy.requestCounter.get()).toBe(0);
    h.proxy.requestCounter.enable();
    expect(h.proxy.requestCounter.enabled).toBe(true);
    await h.send(get("/data/readme"));
    await h.send(get("/"));
    await h.send({
      method: "GET",
      path: "/data/readme",
      query: "",
      headers: [["host", "proxy.test"]],
      body: null,
    }); // anonymous: denied
    await h.send(get("/no-such-bucket/x"));
    expect(h.proxy.requestCounter.get()).toBe(2);
    h.proxy.requestCounter.disable();
    await h.send(get("/data/readme"));
    expect(h.proxy.requestCounter.get()).toBe(2);
    h.proxy.requestCounter.reset();
    expect(h.proxy.requestCounter.get()).toBe(0);
  });

  it("§10 TLS verification toggle reaches the transport", async () => {
    const local = await createHarness({
      config: (backend) => ({ ...standardConfig(backend), verify: false }),
    });
    try {
      await local.send(get("/data/x"));
      expect(local.transport.sent.at(-1)!.verifyTls).toBe(false);
      await h.send(get("/data/x"));
      expect(h.transport.sent.at(-1)!.verifyTls).toBe(true);
    } finally {
      await local.close();
    }
  });

  it("D-6: backend credentials from bucketCredsFetcher are per identity and cached with the bucket ttl", async () => {
    const calls: string[] = [];
    const local = await createHarness({
      config: (backend) => ({
        cosMap: {
          fetched: {
            host: "127.0.0.1",
            port: backend.port,
            tls: false,
            addressingStyle: "path",
            ttl: 60,
          },
        },
        hmacKeystore: [
          { accessKey: "CLIENTKEY", secretKey: "client/secret+key" },
          { accessKey: "OTHERCLIENT", secretKey: "other/secret" },
        ],
        bucketCredsFetcher: async (token: string, bucket: string) => {
          calls.push(`${token}:${bucket}`);
          return token === "CLIENTKEY"
            ? JSON.stringify({ access_key: "BACKENDKEY", secret_key: BACKEND_KEYS.BACKENDKEY })
            : JSON.stringify({ accessKey: "OTHERKEY", secretKey: BACKEND_KEYS.OTHERKEY });
        },
      }),
    });
    try {
      await local.send(get("/fetched/a"));
      await local.send(get("/fetched/a"));
      await local.send(
        get("/fetched/a", {
          credentials: { accessKeyId: "OTHERCLIENT", secretAccessKey: "other/secret" },
        }),
      );
      const keys = local.backend.requests.map(
        (request) => /Credential=([^/]+)/.exec(request.headers.get("authorization")![0]!)![1],
      );
      expect(keys).toEqual(["BACKENDKEY", "BACKENDKEY", "OTHERKEY"]);
      expect(local.backend.requests.every((request) => request.verification === "ok")).toBe(true);
      expect(calls).toEqual(["CLIENTKEY:fetched", "OTHERCLIENT:fetched"]);
      local.clock.advance(61_000);
      await local.send(get("/fetched/a", { signingDate: new Date(local.clock.now()) }));
      expect(calls).toHaveLength(3);
    } finally {
      await local.close();
    }
  });

  it("§10 malformed bucketCredsFetcher JSON is a 500 InternalError, never used as an API key", async () => {
    const local = await createHarness({
      config: (backend) => ({
        cosMap: {
          fetched: { host: "127.0.0.1", port: backend.port, tls: false, addressingStyle: "path" },
        },
        hmacKeystore: [{ accessKey: "CLIENTKEY", secretKey: "client/secret+key" }],
        bucketCredsFetcher: () => '{"access_key": "AK", "secret_key": ',
      }),
    });
    try {
      const response = await local.send(get("/fetched/a"));
      expect(response.status).toBe(500);
      expect(response.text).toContain(
        "<Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>",
      );
      expect(local.transport.sent).toHaveLength(0);
    } finally {
      await local.close();
    }
  });

  it("passes the backend's answer to a request whose transport fails as 503 ServiceUnavailable XML", async () => {
    const local = await createHarness({
      config: () => ({
        cosMap: {
          dead: {
            host: "127.0.0.1",
            port: 1,
            tls: false,
            addressingStyle: "path",
            accessKey: "BACKENDKEY",
            secretKey: "x",
          },
        },
        hmacKeystore: [{ accessKey: "CLIENTKEY", secretKey: "client/secret+key" }],
      }),
    });
    try {
      const response = await local.send(get("/dead/a"));
      expect(response.status).toBe(503);
      expect(response.text).toContain("<Code>ServiceUnavailable</Code>");
    } finally {
      await local.close();
    }
  });
});
