// Adversarial review of OSP's security paths: authentication, authorization and request integrity.
// Each test takes a legitimate, correctly signed request, mounts one attack on it, and asserts the
// SAFE outcome: the right S3 error with nothing sent to the backend, or the backend receiving
// exactly what the client signed (checked by an independent verifier). Tests named "BUG: …"
// document attacks that currently succeed; they fail on purpose until the defect is fixed.

import { createHash } from "node:crypto";
import { signRequest, type Credentials } from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { describe, expect, it } from "vitest";
import {
  createProxy,
  type BucketConfigInput,
  type BucketCredsFetcher,
  type HmacFetcher,
  type ProxyConfigInput,
  type ProxyRequest,
  type Validator,
  type ValidatorRequest,
} from "../src/index.ts";
import { presignedClientRequest, signedClientRequest } from "./support/client.ts";
import {
  BACKEND_SECRET,
  backend,
  recordingTransport,
  upstreamHeader,
  verifyUpstream,
} from "./support/recording-transport.ts";
import { collect, recordingObserver } from "./support/unit.ts";

// ---------------------------------------------------------------------------------------------
// Harness: a proxy on an in-memory recording transport, a manual clock and recording callbacks.
// ---------------------------------------------------------------------------------------------

const START_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const START = new Date(START_MS);
const CLIENT: Credentials = { accessKeyId: "CLIENTKEY", secretAccessKey: "client/secret+key" };
/** Known only through hmacFetcher, so tests can see whether the key store was consulted. */
const FETCHED: Credentials = { accessKeyId: "FETCHEDKEY", secretAccessKey: "fetched/secret+key" };
const PROXY_HOST = "proxy.test:6190";

const COS_MAP: Record<string, BucketConfigInput> = {
  data: backend(),
  logs: backend(),
  virtual: {
    host: "s3.test",
    port: 9000,
    tls: false,
    backendBucket: "real-bucket",
    accessKey: "BACKENDKEY",
    secretKey: BACKEND_SECRET,
  },
  aliased: backend({ backendBucket: "aliased-real" }),
  elsewhere: backend({ host: "other.test" }),
  ibm: {
    host: "127.0.0.1",
    port: 9000,
    tls: false,
    addressingStyle: "path",
    apiKey: "ibm-api-key",
  },
  // No credentials: resolved through bucketCredsFetcher.
  fetched: { host: "127.0.0.1", port: 9000, tls: false, addressingStyle: "path" },
};

interface SetupOptions {
  readonly config?: Partial<ProxyConfigInput>;
  /** Every bucket's decision/credential cache ttl; 0 asks the callbacks on every request. */
  readonly ttlSeconds?: number;
}

const setup = (options: SetupOptions = {}) => {
  let nowMs = START_MS;
  let upstreamStatus = 200;
  const { transport, sent } = recordingTransport(() => upstreamStatus);
  const asked: Array<{ token: string; bucket: string; request: ValidatorRequest }> = [];
  const fetcherCalls: string[] = [];
  const tokenRequests: string[] = [];
  const forcedRefreshes: string[] = [];
  const recorder = recordingObserver();
  const state: {
    policy: (token: string, bucket: string, request: ValidatorRequest) => unknown;
    secrets: (accessKeyId: string) => unknown;
    bucketCreds: (token: string, bucket: string) => unknown;
  } = {
    policy: () => true,
    secrets: (accessKeyId) =>
      accessKeyId === FETCHED.accessKeyId ? FETCHED.secretAccessKey : null,
    bucketCreds: () => JSON.stringify({ access_key: "BACKENDKEY", secret_key: BACKEND_SECRET }),
  };
  const validator = ((token: string, bucket: string, request: ValidatorRequest) => {
    asked.push({ token, bucket, request });
    return state.policy(token, bucket, request);
  }) as Validator;
  const hmacFetcher = ((accessKeyId: string) => {
    fetcherCalls.push(accessKeyId);
    return state.secrets(accessKeyId);
  }) as HmacFetcher;
  const bucketCredsFetcher = ((token: string, bucket: string) =>
    state.bucketCreds(token, bucket)) as BucketCredsFetcher;
  const proxy = createProxy(
    {
      cosMap:
        options.ttlSeconds == null
          ? COS_MAP
          : Object.fromEntries(
              Object.entries(COS_MAP).map(([name, entry]) => [
                name,
                { ...entry, ttl: options.ttlSeconds },
              ]),
            ),
      hmacKeystore: [{ accessKey: CLIENT.accessKeyId, secretKey: CLIENT.secretAccessKey }],
      hmacFetcher,
      bucketCredsFetcher,
      virtualHostDomains: ["proxy.test"],
      validator,
      ...options.config,
    },
    {
      transport,
      now: () => nowMs,
      crypto: nodeCryptoProvider,
      createRequestId: () => "ADVERSARIAL00001",
      bearerTokens: {
        async getToken(apiKey, tokenOptions) {
          if (tokenOptions?.forceRefresh === true) forcedRefreshes.push(apiKey);
          tokenRequests.push(apiKey);
          return "bearer-token-1";
        },
      },
      observer: recorder.observer,
    },
  );
  const send = async (request: ProxyRequest | Promise<ProxyRequest>) => {
    const response = await proxy.handle(await request);
    const text = Buffer.from(await collect(response.body)).toString("utf8");
    const header = (name: string) =>
      response.headers.find(([key]) => key.toLowerCase() === name)?.[1];
    return { status: response.status, text, code: header("x-amz-error-code"), header };
  };
  /** Sends and asserts an S3 error with a non-empty message and nothing forwarded. */
  const refused = async (
    request: ProxyRequest | Promise<ProxyRequest>,
    status: number,
    code: string,
    label = code,
  ) => {
    const before = sent.length;
    const resolved = await request;
    const response = await send(resolved);
    expect([response.status, response.code], `${label}: ${response.text}`).toEqual([status, code]);
    // HEAD answers carry no body; the code is in x-amz-error-code.
    if (resolved.method !== "HEAD")
      expect(response.text, label).toMatch(/<Message>[^<]+<\/Message>/);
    expect(sent.length, `${label}: nothing may be forwarded`).toBe(before);
    return response;
  };
  return {
    proxy,
    sent,
    send,
    refused,
    asked,
    fetcherCalls,
    tokenRequests,
    forcedRefreshes,
    events: recorder.events,
    state,
    setUpstreamStatus: (status: number) => void (upstreamStatus = status),
    clock: {
      now: () => nowMs,
      advance: (ms: number) => void (nowMs += ms),
    },
  };
};

const sha256Hex = (data: string | Buffer): string =>
  createHash("sha256").update(data).digest("hex");

/** A body that can be iterated again (a replayed request re-reads it). */
const replayableBody = (data: Buffer): AsyncIterable<Uint8Array> => ({
  async *[Symbol.asyncIterator]() {
    yield Uint8Array.from(data);
  },
});

interface ClientOptions {
  readonly method: string;
  readonly path: string;
  readonly query?: string;
  readonly host?: string;
  /** Headers the client signs (repeats allowed: they are joined as S3 does). */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string | Buffer;
  readonly payloadHash?: string;
  readonly atMs?: number;
  readonly credentials?: Credentials;
  readonly region?: string;
  readonly service?: string;
}

type ClientRequest = ProxyRequest & {
  readonly headers: Array<[string, string]>;
  readonly authorization: string;
  readonly signature: string;
};

/** A header-signed request made with @osp/sigv4's signer. */
const clientRequest = (options: ClientOptions): ClientRequest => {
  const body = options.body == null ? undefined : Buffer.from(options.body);
  const query = options.query ?? "";
  const signed = signRequest(
    {
      method: options.method,
      path: options.path,
      query,
      headers: [["host", options.host ?? PROXY_HOST], ...(options.headers ?? [])],
    },
    {
      credentials: options.credentials ?? CLIENT,
      region: options.region ?? "us-east-1",
      ...(options.service != null && { service: options.service }),
      now: options.atMs ?? START_MS,
      payloadHash: options.payloadHash ?? sha256Hex(body ?? ""),
      crypto: nodeCryptoProvider,
    },
  );
  const headers: Array<[string, string]> = signed.headers.map(([name, value]) => [name, value]);
  if (body != null) headers.push(["content-length", String(body.length)]);
  return {
    method: options.method,
    path: options.path,
    query,
    headers,
    body: body == null ? null : replayableBody(body),
    authorization: signed.authorization,
    signature: signed.signature,
  };
};

type Headers = Array<[string, string]>;

const withHeaders = (
  request: ProxyRequest,
  change: (headers: Headers) => Headers,
): ProxyRequest => ({
  ...request,
  headers: change(request.headers.map(([name, value]): [string, string] => [name, value])),
});

const replaceHeader =
  (name: string, value: string) =>
  (headers: Headers): Headers =>
    headers.map(([key, old]): [string, string] => [key, key.toLowerCase() === name ? value : old]);

const withAuthorization = (request: ClientRequest, change: (value: string) => string) =>
  withHeaders(request, replaceHeader("authorization", change(request.authorization)));

const elapsedMs = async (run: () => Promise<unknown>): Promise<number> => {
  const startedAt = performance.now();
  await run();
  return performance.now() - startedAt;
};

// ---------------------------------------------------------------------------------------------
// Authentication and request integrity
// ---------------------------------------------------------------------------------------------

describe("adversarial: authentication", () => {
  it("refuses an Authorization header combined with presign query parameters, before any key lookup", async () => {
    const h = setup();
    const fake = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${FETCHED.accessKeyId}%2F20300101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=${"0".repeat(64)}`;
    // The query is covered by the header signature: the client signed both forms itself.
    await h.refused(
      clientRequest({ method: "GET", path: "/data/k", query: fake, credentials: FETCHED }),
      400,
      "InvalidRequest",
    );
    // Only one presign parameter, spelled with an encoded name.
    await h.refused(
      clientRequest({
        method: "GET",
        path: "/data/k",
        query: `X%2DAmz-Signature=${"0".repeat(64)}`,
        credentials: FETCHED,
      }),
      400,
      "InvalidRequest",
    );
    // A genuine presigned URL with an Authorization header of another request added.
    const presigned = await presignedClientRequest({
      method: "GET",
      path: "/data/k",
      signingDate: START,
      expiresInSeconds: 60,
    });
    const other = clientRequest({ method: "GET", path: "/data/k" });
    await h.refused(
      withHeaders(presigned, (headers) => [...headers, ["authorization", other.authorization]]),
      400,
      "InvalidRequest",
    );
    expect(h.fetcherCalls).toEqual([]);
    expect((await h.send(presigned)).status).toBe(200);
  });

  it("refuses two Authorization headers, even two copies of the valid one", async () => {
    const h = setup();
    const good = clientRequest({ method: "GET", path: "/data/k" });
    const junk = "AWS4-HMAC-SHA256 Credential=x";
    for (const [label, extra] of [
      ["same value twice", ["Authorization", good.authorization]],
      ["junk after", ["authorization", junk]],
    ] as const) {
      await h.refused(
        withHeaders(good, (headers) => [...headers, [extra[0], extra[1]]]),
        400,
        "AuthorizationHeaderMalformed",
        label,
      );
    }
    await h.refused(
      withHeaders(good, (headers) => [["AUTHORIZATION", junk], ...headers]),
      400,
      "AuthorizationHeaderMalformed",
      "junk before",
    );
    // Odd case is still the same header (one of them: accepted).
    const upperCased = withHeaders(good, (headers) =>
      headers.map(([name, value]): [string, string] => [
        name === "authorization" ? "AuThOrIzAtIoN" : name,
        value,
      ]),
    );
    expect((await h.send(upperCased)).status).toBe(200);
    // A look-alike name is not an Authorization header: the request is anonymous.
    await h.refused(
      withHeaders(good, (headers) =>
        headers.map(([name, value]): [string, string] => [
          name === "authorization" ? "authorization " : name,
          value,
        ]),
      ),
      403,
      "AccessDenied",
      "look-alike name",
    );
  });

  it("binds the Host: a second Host, another Host or only an HTTP/2 :authority never verify", async () => {
    const h = setup();
    const good = clientRequest({ method: "GET", path: "/k", host: "data.proxy.test" });
    await h.refused(
      withHeaders(good, (headers) => [...headers, ["Host", "logs.proxy.test"]]),
      403,
      "SignatureDoesNotMatch",
      "second Host after",
    );
    await h.refused(
      withHeaders(good, (headers) => [["host", "logs.proxy.test"], ...headers]),
      403,
      "SignatureDoesNotMatch",
      "second Host before",
    );
    await h.refused(
      withHeaders(good, replaceHeader("host", "logs.proxy.test")),
      403,
      "SignatureDoesNotMatch",
      "other Host",
    );
    await h.refused(
      withHeaders(good, (headers) => [
        ...headers.filter(([name]) => name !== "host"),
        [":authority", "data.proxy.test"],
      ]),
      403,
      "SignatureDoesNotMatch",
      ":authority only",
    );
    expect(h.asked).toEqual([]);
  });

  it("never lets :authority override the signed Host, and never forwards pseudo-headers", async () => {
    const h = setup();
    const request = clientRequest({ method: "GET", path: "/k", host: "virtual.proxy.test" });
    const response = await h.send(
      withHeaders(request, (headers) => [...headers, [":authority", "data.proxy.test"]]),
    );
    expect(response.status).toBe(200);
    expect(h.asked.map((entry) => entry.bucket)).toEqual(["virtual"]);
    const forwarded = h.sent[0]!;
    expect(forwarded.request.origin).toBe("http://real-bucket.s3.test:9000");
    expect(forwarded.request.headers.some(([name]) => name.startsWith(":"))).toBe(false);
    await expect(verifyUpstream(forwarded)).resolves.toMatchObject({
      accessKeyId: "BACKENDKEY",
    });
  });

  it("routes by the signed virtual host, never by a bucket-looking first path segment", async () => {
    const h = setup();
    const response = await h.send(
      clientRequest({ method: "GET", path: "/logs/secret", host: "data.proxy.test" }),
    );
    expect(response.status).toBe(200);
    expect(h.asked.map(({ bucket, request }) => [bucket, request.key])).toEqual([
      ["data", "logs/secret"],
    ]);
    expect(h.sent[0]!.request.pathAndQuery).toBe("/data/logs/secret");
  });

  it("refuses bucket smuggling through an encoded slash or an empty first segment", async () => {
    const h = setup();
    for (const path of [
      "/data%2F..%2Flogs/key",
      "/data%2Flogs",
      "/data%2f..%2flogs",
      "//logs/key",
    ]) {
      await h.refused(clientRequest({ method: "GET", path }), 400, "InvalidBucketName", path);
    }
    // Dot segments as the bucket name are a bucket nobody serves.
    await h.refused(
      clientRequest({ method: "GET", path: "/%2E%2E/logs/key" }),
      404,
      "NoSuchBucket",
    );
    await h.refused(clientRequest({ method: "GET", path: "/./logs/key" }), 404, "NoSuchBucket");
    expect(h.asked).toEqual([]);
  });

  it("keeps dot segments inside the addressed bucket, byte for byte, and re-signs exactly that path", async () => {
    // S3 keys may contain "." and ".." segments; the proxy must neither resolve them (which would
    // change the bucket) nor let them change what the validator was asked about.
    const h = setup({ ttlSeconds: 0 });
    for (const [path, key] of [
      ["/data/../logs/key", "../logs/key"],
      ["/data/%2E%2E/logs/key", "../logs/key"],
      ["/data/./../../logs/key", "./../../logs/key"],
    ] as const) {
      const before = h.sent.length;
      expect((await h.send(clientRequest({ method: "GET", path }))).status, path).toBe(200);
      expect(h.asked.at(-1)!.bucket, path).toBe("data");
      expect(h.asked.at(-1)!.request.key, path).toBe(key);
      const forwarded = h.sent[before]!;
      expect(forwarded.request.pathAndQuery, path).toBe(path);
      await expect(verifyUpstream(forwarded)).resolves.toBeDefined();
    }
  });

  it("refuses absolute-form and asterisk-form request targets before anything else", async () => {
    const h = setup();
    const headers = clientRequest({ method: "GET", path: "/data/k", credentials: FETCHED }).headers;
    for (const path of [
      "http://logs.proxy.test/key",
      "https://data.proxy.test/",
      "*",
      "data/key",
    ]) {
      await h.refused(
        { method: "GET", path, query: "", headers, body: null },
        400,
        "InvalidURI",
        path,
      );
    }
    expect(h.fetcherCalls).toEqual([]);
  });

  it("refuses a signed header repeated with another value after signing (multi-value join)", async () => {
    const h = setup();
    const good = clientRequest({
      method: "PUT",
      path: "/data/k",
      body: "payload",
      headers: [
        ["x-amz-meta-owner", "alice"],
        ["content-type", "text/plain"],
      ],
    });
    const cases: Array<[string, (headers: Headers) => Headers, number, string]> = [
      [
        "meta after",
        (headers) => [...headers, ["x-amz-meta-owner", "mallory"]],
        403,
        "SignatureDoesNotMatch",
      ],
      [
        "meta before",
        (headers) => [["X-Amz-Meta-Owner", "mallory"], ...headers],
        403,
        "SignatureDoesNotMatch",
      ],
      [
        "content-type",
        (headers) => [...headers, ["Content-Type", "text/html"]],
        403,
        "SignatureDoesNotMatch",
      ],
      [
        "unsigned x-amz-acl",
        (headers) => [...headers, ["x-amz-acl", "public-read"]],
        403,
        "AccessDenied",
      ],
      [
        "unsigned odd-case x-amz",
        (headers) => [...headers, ["X-AMZ-GRANT-READ", "uri=AllUsers"]],
        403,
        "AccessDenied",
      ],
    ];
    for (const [label, change, status, code] of cases) {
      await h.refused(withHeaders(good, change), status, code, label);
    }
    expect((await h.send(good)).status).toBe(200);
    expect(upstreamHeader(h.sent[0]!, "x-amz-meta-owner")).toEqual(["alice"]);
    expect(upstreamHeader(h.sent[0]!, "content-type")).toEqual(["text/plain"]);
    await expect(verifyUpstream(h.sent[0]!)).resolves.toBeDefined();
  });

  it("lets x-amz-date win over Date, so no Date trick refreshes a captured request", async () => {
    const h = setup();
    const captured = clientRequest({ method: "GET", path: "/data/k" });
    h.clock.advance(20 * 60_000);
    const freshAmzDate = "20300101T122000Z";
    const freshHttpDate = "Tue, 01 Jan 2030 12:20:00 GMT";
    await h.refused(
      withHeaders(captured, (headers) => [...headers, ["date", freshHttpDate]]),
      403,
      "RequestTimeTooSkewed",
      "Date added",
    );
    await h.refused(
      withHeaders(captured, (headers) => [
        ...headers.filter(([name]) => name !== "x-amz-date"),
        ["date", freshHttpDate],
      ]),
      403,
      "SignatureDoesNotMatch",
      "x-amz-date swapped for Date",
    );
    await h.refused(
      withHeaders(captured, (headers) => [...headers, ["x-amz-date", freshAmzDate]]),
      403,
      "AccessDenied",
      "second x-amz-date",
    );
    await h.refused(
      withHeaders(captured, replaceHeader("x-amz-date", freshAmzDate)),
      403,
      "SignatureDoesNotMatch",
      "x-amz-date replaced",
    );
    // An unparsable x-amz-date never falls back to a fresh Date header.
    await h.refused(
      withHeaders(captured, (headers) => [
        ...replaceHeader("x-amz-date", "2030-01-01T12:20:00Z")(headers),
        ["date", freshHttpDate],
      ]),
      403,
      "AccessDenied",
      "bad x-amz-date + Date",
    );
  });

  it("refuses X-Amz-Expires that is negative, zero, over a week, non-numeric or repeated", async () => {
    const h = setup();
    const presigned = await presignedClientRequest({
      method: "GET",
      path: "/data/k",
      signingDate: START,
      expiresInSeconds: 60,
    });
    expect(presigned.query).toMatch(/X-Amz-Expires=60(&|$)/);
    const withExpires = (value: string): ProxyRequest => ({
      ...presigned,
      query: presigned.query.replace(/X-Amz-Expires=[^&]*/, `X-Amz-Expires=${value}`),
    });
    for (const value of [
      "-1",
      "0",
      "604801",
      "99999999",
      "abc",
      "1e3",
      "",
      "60.5",
      "%2060",
      "0x10",
      "%EF%BC%96%EF%BC%90",
    ]) {
      await h.refused(
        withExpires(value),
        400,
        "AuthorizationQueryParametersError",
        `X-Amz-Expires=${value}`,
      );
    }
    await h.refused(
      { ...presigned, query: `${presigned.query}&X-Amz-Expires=60` },
      400,
      "AuthorizationQueryParametersError",
      "repeated",
    );
    expect((await h.send(presigned)).status).toBe(200);
    h.clock.advance(61_000);
    await h.refused(presigned, 403, "AccessDenied", "expired");
    // Dated too far in the future: refused, not valid "from then on".
    const future = await presignedClientRequest({
      method: "GET",
      path: "/data/k",
      signingDate: new Date(h.clock.now() + 20 * 60_000),
      expiresInSeconds: 604_800,
    });
    await h.refused(future, 403, "RequestTimeTooSkewed", "future");
  });

  it("refuses a wrong credential scope (service, region, terminator, date) before any key lookup", async () => {
    const h = setup({ config: { regions: ["us-east-1"] } });
    const request = (options: Partial<ClientOptions> = {}) =>
      clientRequest({ method: "GET", path: "/data/k", credentials: FETCHED, ...options });
    await h.refused(request({ service: "iam" }), 400, "AuthorizationHeaderMalformed", "service");
    await h.refused(
      request({ region: "eu-evil-1" }),
      400,
      "AuthorizationHeaderMalformed",
      "region",
    );
    const good = request();
    await h.refused(
      withAuthorization(good, (value) => value.replace("/aws4_request", "/aws4_requestX")),
      400,
      "AuthorizationHeaderMalformed",
      "terminator",
    );
    await h.refused(
      withAuthorization(good, (value) => value.replace("/20300101/", "/20291231/")),
      400,
      "AuthorizationHeaderMalformed",
      "scope date",
    );
    await h.refused(
      withAuthorization(good, (value) => value.replace("/us-east-1/s3/", "/us-east-1/s3/extra/")),
      400,
      "AuthorizationHeaderMalformed",
      "extra scope part",
    );
    expect(h.fetcherCalls).toEqual([]);
    expect((await h.send(good)).status).toBe(200);
  });

  it("compares the signature exactly: upper-case hex, trailing junk or another length never verify", async () => {
    const h = setup();
    const good = clientRequest({ method: "GET", path: "/data/k" });
    const sig = good.signature;
    await h.refused(
      withAuthorization(good, (value) => value.replace(sig, sig.toUpperCase())),
      403,
      "SignatureDoesNotMatch",
      "upper case",
    );
    for (const [label, replacement] of [
      ["two more digits", `${sig}00`],
      ["one digit less", sig.slice(0, 63)],
      ["trailing letter", `${sig}Z`],
      ["repeated Signature", `${sig},Signature=${sig}`],
      ["trailing semicolon", `${sig};`],
    ] as const) {
      await h.refused(
        withAuthorization(good, (value) => value.replace(sig, replacement)),
        400,
        "AuthorizationHeaderMalformed",
        label,
      );
    }
    expect((await h.send(good)).status).toBe(200);
  });

  it("refuses SignedHeaders reordered, duplicated, without host, empty or upper-case", async () => {
    const h = setup();
    const good = clientRequest({ method: "GET", path: "/data/k", credentials: FETCHED });
    const list = /SignedHeaders=([^,]+)/.exec(good.authorization)![1]!;
    expect(list).toBe("host;x-amz-content-sha256;x-amz-date");
    const withList = (value: string) =>
      withAuthorization(good, (header) =>
        header.replace(`SignedHeaders=${list}`, `SignedHeaders=${value}`),
      );
    await h.refused(
      withList("x-amz-date;host;x-amz-content-sha256"),
      403,
      "SignatureDoesNotMatch",
      "reordered",
    );
    await h.refused(
      withList("host;host;x-amz-content-sha256;x-amz-date"),
      400,
      "AuthorizationHeaderMalformed",
      "duplicate",
    );
    await h.refused(withList("x-amz-content-sha256;x-amz-date"), 403, "AccessDenied", "no host");
    await h.refused(withList(""), 400, "AuthorizationHeaderMalformed", "empty");
    await h.refused(
      withList("Host;x-amz-content-sha256;x-amz-date"),
      400,
      "AuthorizationHeaderMalformed",
      "upper case",
    );
    await h.refused(
      withList("host;;x-amz-date"),
      400,
      "AuthorizationHeaderMalformed",
      "empty name",
    );
    // Policy checks (host signed, every x-amz-* signed) run before the key store is consulted.
    expect(h.fetcherCalls).toEqual(["FETCHEDKEY"]);
  });

  it("keeps odd access keys ('/', markup, non-ASCII) parsed strictly and escaped in errors", async () => {
    const h = setup();
    const good = clientRequest({ method: "GET", path: "/data/k" });
    await h.refused(
      withAuthorization(good, (value) =>
        value.replace("Credential=CLIENTKEY/", "Credential=CLIENT/KEY/"),
      ),
      400,
      "AuthorizationHeaderMalformed",
      "slash in key",
    );
    expect(h.fetcherCalls).toEqual([]);
    const markup = await h.refused(
      clientRequest({
        method: "GET",
        path: "/data/k",
        credentials: { accessKeyId: "<b>&evil", secretAccessKey: "x" },
      }),
      403,
      "InvalidAccessKeyId",
      "markup",
    );
    expect(markup.text).not.toContain("<b>");
    expect(markup.text).toContain("&lt;b&gt;&amp;evil");
    await h.refused(
      clientRequest({
        method: "GET",
        path: "/data/k",
        credentials: { accessKeyId: "ключ", secretAccessKey: "x" },
      }),
      403,
      "InvalidAccessKeyId",
      "non-ASCII",
    );
    expect(h.fetcherCalls).toEqual(["<b>&evil", "ключ"]);
  });

  it("binds presigned URLs to method, host, query and x-amz-* headers; an unsigned content hash is ignored", async () => {
    const h = setup();
    const presigned = await presignedClientRequest({
      method: "GET",
      path: "/data/k",
      signingDate: START,
      expiresInSeconds: 300,
    });
    for (const method of ["PUT", "DELETE", "HEAD", "POST"]) {
      await h.refused({ ...presigned, method }, 403, "SignatureDoesNotMatch", method);
    }
    await h.refused(
      withHeaders(presigned, replaceHeader("host", "logs.proxy.test")),
      403,
      "SignatureDoesNotMatch",
      "host",
    );
    await h.refused(
      withHeaders(presigned, (headers) => [...headers, ["x-amz-acl", "public-read"]]),
      403,
      "AccessDenied",
      "unsigned x-amz header",
    );
    for (const extra of [
      "x-amz-acl=public-read",
      "acl",
      "x-amz-signature=" + "0".repeat(64),
      "versionId=1",
    ]) {
      await h.refused(
        { ...presigned, query: `${presigned.query}&${extra}` },
        403,
        "SignatureDoesNotMatch",
        extra,
      );
    }
    // The client may add an x-amz-content-sha256 header the URL never covered; it must not change
    // the payload mode the proxy uses (and it is never forwarded).
    const response = await h.send(
      withHeaders(presigned, (headers) => [
        ...headers,
        ["x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"],
      ]),
    );
    expect(response.status).toBe(200);
    expect(upstreamHeader(h.sent.at(-1)!, "x-amz-content-sha256")).toEqual(["UNSIGNED-PAYLOAD"]);
    expect(h.sent.at(-1)!.request.pathAndQuery).toBe("/data/k");
    await expect(verifyUpstream(h.sent.at(-1)!)).resolves.toBeDefined();
  });

  it("breaks the signature when a sub-resource is added or re-spelled after signing", async () => {
    const h = setup();
    const captured = clientRequest({ method: "GET", path: "/data/k", query: "x-id=GetObject" });
    for (const query of [
      "x-id=GetObject&acl",
      "acl&x-id=GetObject",
      "x-id=GetObject&tagging",
      "x-id=GetObject&%61cl",
      "x-id=GetObject&uploadId=1&partNumber=1",
      "x-id=GetObject&versionId=old",
      "x-id=GetObject&x-id=PutObject",
      "x-id=GetObject&x-id=GetObject",
      "x-id=PutObject",
      "",
    ]) {
      await h.refused({ ...captured, query }, 403, "SignatureDoesNotMatch", query);
    }
    // Encoding-equivalent spellings verify (SigV4 canonicalises them), and the backend receives
    // exactly the bytes that were verified.
    expect((await h.send({ ...captured, query: "x%2Did=Get%4Fbject" })).status).toBe(200);
    expect(h.sent.at(-1)!.request.pathAndQuery).toBe("/data/k?x%2Did=Get%4Fbject");
    expect(h.asked.at(-1)!.request.operation).toBe("GetObject");
  });

  it("refuses Signature Version 2 and foreign schemes instead of passing them on", async () => {
    const h = setup();
    const anonymous = (headers: Headers, query = ""): ProxyRequest => ({
      method: "GET",
      path: "/data/k",
      query,
      headers: [["host", PROXY_HOST], ...headers],
      body: null,
    });
    await h.refused(
      anonymous([["authorization", "AWS CLIENTKEY:c2lnbmF0dXJl"]]),
      400,
      "InvalidRequest",
      "v2 header",
    );
    await h.refused(
      anonymous([], "AWSAccessKeyId=CLIENTKEY&Expires=1893499200&Signature=c2ln"),
      400,
      "InvalidRequest",
      "v2 query",
    );
    await h.refused(
      anonymous([["authorization", "Bearer stolen-token"]]),
      400,
      "AuthorizationHeaderMalformed",
      "bearer",
    );
    await h.refused(
      anonymous([["authorization", "AWS4-ECDSA-P256-SHA256 Credential=x"]]),
      400,
      "AuthorizationHeaderMalformed",
      "sigv4a",
    );
  });

  it("keeps secrets, signatures and Authorization values out of error bodies, observer events and the config", async () => {
    const h = setup();
    const leaks: string[] = [
      CLIENT.secretAccessKey,
      FETCHED.secretAccessKey,
      BACKEND_SECRET,
      "ibm-api-key",
    ];
    const bodies: string[] = [];
    const attempt = async (request: ClientRequest | ProxyRequest) => {
      if ("authorization" in request) leaks.push(request.signature, request.authorization);
      bodies.push((await h.send(request)).text);
    };
    h.state.secrets = (accessKeyId) => {
      if (accessKeyId === "THROWKEY") throw new Error("secret-from-hmac-fetcher");
      return null;
    };
    leaks.push("secret-from-hmac-fetcher", "secret-from-validator", "secret-from-creds-fetcher");
    const good = clientRequest({ method: "GET", path: "/data/k" });
    await attempt(
      clientRequest({
        method: "GET",
        path: "/data/k",
        credentials: { ...CLIENT, secretAccessKey: "guessed" },
      }),
    );
    await attempt(
      clientRequest({
        method: "GET",
        path: "/data/k",
        credentials: { accessKeyId: "NOBODY", secretAccessKey: "x" },
      }),
    );
    await attempt(
      clientRequest({
        method: "GET",
        path: "/data/k",
        credentials: { accessKeyId: "THROWKEY", secretAccessKey: "x" },
      }),
    );
    await attempt(clientRequest({ method: "GET", path: "/data/k", atMs: START_MS - 3_600_000 }));
    await attempt(withAuthorization(good, (value) => `${value},Extra=1`) as ClientRequest);
    h.state.policy = () => {
      throw new Error("secret-from-validator");
    };
    await attempt(clientRequest({ method: "GET", path: "/data/k2" }));
    h.state.policy = () => true;
    h.state.bucketCreds = () => '{"access_key":"AK","secret_key":"secret-from-creds-fetcher"';
    await attempt(clientRequest({ method: "GET", path: "/fetched/k" }));
    const presigned = await presignedClientRequest({
      method: "GET",
      path: "/data/k",
      signingDate: START,
      expiresInSeconds: 60,
      credentials: { ...CLIENT, secretAccessKey: "guessed" },
    });
    leaks.push(/X-Amz-Signature=([0-9a-f]{64})/.exec(presigned.query)![1]!);
    await attempt(presigned);
    expect(bodies.every((body) => body.includes("<Error>"))).toBe(true);
    const exposed = [...bodies, JSON.stringify(h.events), JSON.stringify(h.proxy.config)].join(
      "\n",
    );
    for (const leak of leaks) expect(exposed, "leaked").not.toContain(leak);
  });

  it("never echoes a malformed Authorization component (a bare signature) into the error body", async () => {
    // Error bodies are logged by intermediaries that redact the Authorization header; a signature
    // copied into the body could be put back into a valid header and replayed for 15 minutes.
    const h = setup();
    const good = clientRequest({ method: "GET", path: "/data/k" });
    for (const broken of ["Signature", "Signature:", "Signature ", "Signature=="]) {
      const response = await h.refused(
        withAuthorization(good, (value) => value.replace("Signature=", broken)),
        400,
        "AuthorizationHeaderMalformed",
        broken,
      );
      expect(response.text, broken).not.toContain(good.signature);
    }
  });

  it("bounds the work on oversized paths, header lists and Authorization values", async () => {
    const h = setup();
    const longKey = "k".repeat(200_000);
    const longPath = clientRequest({ method: "GET", path: `/data/${longKey}` });
    expect(
      await elapsedMs(async () => expect((await h.send(longPath)).status).toBe(200)),
    ).toBeLessThan(2_000);
    const manyHeaders = withHeaders(
      clientRequest({ method: "GET", path: "/data/k" }),
      (headers) => [
        ...headers,
        ...Array.from({ length: 2_000 }, (_, index): [string, string] => [
          `x-amz-meta-h${index}`,
          "v",
        ]),
      ],
    );
    expect(
      await elapsedMs(() =>
        h.refused(manyHeaders, 403, "AccessDenied", "2000 unsigned x-amz headers"),
      ),
    ).toBeLessThan(2_000);
    const names = Array.from({ length: 5_000 }, (_, index) => `h${index}`);
    const longList = withAuthorization(clientRequest({ method: "GET", path: "/data/k" }), (value) =>
      value.replace("SignedHeaders=host;", `SignedHeaders=${names.join(";")};host;`),
    );
    expect(
      await elapsedMs(() =>
        h.refused(
          withHeaders(longList, (headers) => [
            ...headers,
            ...names.slice(0, 2_000).map((name): [string, string] => [name, "v"]),
          ]),
          403,
          "SignatureDoesNotMatch",
          "5000 signed names",
        ),
      ),
    ).toBeLessThan(2_000);
    const junk = withHeaders(
      clientRequest({ method: "GET", path: "/data/k" }),
      replaceHeader("authorization", `AWS4-HMAC-SHA256 ${"Credential=x,".repeat(6_000)}`),
    );
    expect(
      await elapsedMs(() => h.refused(junk, 400, "AuthorizationHeaderMalformed", "64 KB junk")),
    ).toBeLessThan(2_000);
    expect(h.sent).toHaveLength(1);
  });

  it(
    "regression: canonicalises a long query without '=' in linear time, before any authentication",
    { timeout: 120_000 },
    async () => {
      // An anonymous request: one "%" makes the presign-parameter scan canonicalise the whole query,
      // and each "&"-piece without "=" searches the rest of the string for one.
      const h = setup();
      const query = `%41&${"a&".repeat(500_000)}`;
      const took = await elapsedMs(() =>
        h.refused(
          { method: "GET", path: "/data/k", query, headers: [["host", PROXY_HOST]], body: null },
          403,
          "AccessDenied",
        ),
      );
      // Linear work on 1 MB is a few milliseconds; the quadratic scan takes seconds.
      expect(took).toBeLessThan(1_000);
    },
  );

  it(
    "bounds the negative cache under an unknown-key flood, and known keys keep working",
    { timeout: 60_000 },
    async () => {
      const h = setup();
      const flood = (index: number): ProxyRequest => ({
        method: "GET",
        path: "/data/k",
        query: "",
        headers: [
          ["host", PROXY_HOST],
          ["x-amz-date", "20300101T120000Z"],
          ["x-amz-content-sha256", sha256Hex("")],
          [
            "authorization",
            `AWS4-HMAC-SHA256 Credential=FLOOD${index}/20300101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${"0".repeat(64)}`,
          ],
        ],
        body: null,
      });
      const total = 10_050;
      for (let index = 0; index < total; index++) {
        const response = await h.proxy.handle(flood(index));
        expect(response.status).toBe(403);
      }
      expect(h.fetcherCalls).toHaveLength(total);
      expect(h.proxy.cacheStats().secrets.size).toBeLessThanOrEqual(10_000);
      // A recent unknown key is answered from the negative cache, without the fetcher.
      expect((await h.send(flood(total - 1))).code).toBe("InvalidAccessKeyId");
      expect(h.fetcherCalls).toHaveLength(total);
      expect(
        (await h.send(clientRequest({ method: "GET", path: "/data/k", credentials: FETCHED })))
          .status,
      ).toBe(200);
      expect(h.sent).toHaveLength(1);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Authorization, callbacks and operations
// ---------------------------------------------------------------------------------------------

describe("adversarial: authorization and callbacks", () => {
  it("denies with 500 InternalError when the validator throws, rejects or answers a non-boolean, and asks again next time", async () => {
    const h = setup();
    const answers: Array<[string, () => unknown]> = [
      [
        "throws",
        () => {
          throw new Error("validator-internal-detail");
        },
      ],
      ["rejects", () => Promise.reject(new Error("validator-internal-detail"))],
      ["string", () => "true"],
      ["number", () => 1],
      ["object", () => ({ allowed: true })],
      ["boxed", () => new Boolean(true)],
      ["null", () => null],
      ["undefined", () => undefined],
      ["async string", async () => "yes"],
      [
        "throwing thenable",
        () => ({
          // oxlint-disable-next-line unicorn/no-thenable -- a hostile thenable is the attack here
          then() {
            throw new Error("validator-internal-detail");
          },
        }),
      ],
    ];
    for (const [label, answer] of answers) {
      h.state.policy = answer;
      const response = await h.refused(
        clientRequest({ method: "GET", path: "/data/k" }),
        500,
        "InternalError",
        label,
      );
      expect(response.text).not.toContain("validator-internal-detail");
    }
    h.state.policy = () => true;
    expect((await h.send(clientRequest({ method: "GET", path: "/data/k" }))).status).toBe(200);
  });

  it("keeps cached decisions per operation: an allowed GetObject never allows GetObjectAcl, HEAD or PUT", async () => {
    const h = setup();
    h.state.policy = (_token, _bucket, request) => request.operation === "GetObject";
    expect((await h.send(clientRequest({ method: "GET", path: "/data/k" }))).status).toBe(200);
    await h.refused(
      clientRequest({ method: "GET", path: "/data/k", query: "acl" }),
      403,
      "AccessDenied",
      "acl",
    );
    await h.refused(
      clientRequest({ method: "HEAD", path: "/data/k" }),
      403,
      "AccessDenied",
      "HEAD",
    );
    await h.refused(
      clientRequest({ method: "PUT", path: "/data/k", body: "x" }),
      403,
      "AccessDenied",
      "PUT",
    );
    await h.refused(
      clientRequest({ method: "GET", path: "/data/k", query: "uploadId=1" }),
      403,
      "AccessDenied",
      "ListParts",
    );
    expect(h.asked.map((entry) => entry.request.operation)).toEqual([
      "GetObject",
      "GetObjectAcl",
      "HeadObject",
      "PutObject",
      "ListParts",
    ]);
  });

  it("keeps per-key decisions apart with validatorCacheKey 'object'", async () => {
    const h = setup({ config: { validatorCacheKey: "object" } });
    h.state.policy = (_token, _bucket, request) => request.key?.startsWith("public/") === true;
    expect((await h.send(clientRequest({ method: "GET", path: "/data/public/a" }))).status).toBe(
      200,
    );
    await h.refused(clientRequest({ method: "GET", path: "/data/private/b" }), 403, "AccessDenied");
  });

  it("regression: names ambiguous sub-resource combinations after the weaker operation (UploadPart, not PutObjectAcl)", async () => {
    // Backends pick the sub-resource handler first (Ceph RGW: ?acl → PutACLs, ?tagging → PutObjTags,
    // DELETE ?tagging → DeleteObjTags), while the validator is told the multipart operation.
    const h = setup();
    h.state.policy = (_token, _bucket, request) =>
      ["UploadPart", "AbortMultipartUpload", "ListParts"].includes(request.operation);
    const leaked: string[] = [];
    const attempts: Array<[string, ClientRequest]> = [
      [
        "PUT ?acl&partNumber&uploadId",
        clientRequest({
          method: "PUT",
          path: "/data/k",
          query: "acl&partNumber=1&uploadId=u",
          headers: [["x-amz-acl", "public-read"]],
          body: "",
        }),
      ],
      [
        "PUT ?tagging&partNumber&uploadId",
        clientRequest({
          method: "PUT",
          path: "/data/k",
          query: "partNumber=1&tagging&uploadId=u",
          body: "<Tagging><TagSet/></Tagging>",
        }),
      ],
      [
        "DELETE ?tagging&uploadId",
        clientRequest({ method: "DELETE", path: "/data/k", query: "tagging&uploadId=u" }),
      ],
      [
        "GET ?acl&uploadId",
        clientRequest({ method: "GET", path: "/data/k", query: "acl&uploadId=u" }),
      ],
    ];
    for (const [label, request] of attempts) {
      const before = h.sent.length;
      const response = await h.send(request);
      if (h.sent.length > before)
        leaked.push(
          `${label} → validator saw ${h.asked.at(-1)!.request.operation} (${response.status})`,
        );
    }
    expect(leaked).toEqual([]);
  });

  it("regression: a repeated query parameter shows the validator the first value while the backend gets both", async () => {
    // Backends that keep the last value of a repeated parameter (Ceph RGW's argument map) list
    // the prefix the validator never saw.
    const h = setup();
    h.state.policy = (_token, _bucket, request) =>
      (request.query["prefix"] ?? "").startsWith("public/");
    const response = await h.send(
      clientRequest({
        method: "GET",
        path: "/data",
        query: "list-type=2&prefix=public%2F&prefix=private%2F",
      }),
    );
    const forwarded = h.sent.length > 0;
    const seen = h.asked.map((entry) => entry.request.query);
    const validatorSawPrivate = seen.some((query) => JSON.stringify(query).includes("private/"));
    expect(
      forwarded && !validatorSawPrivate,
      `status ${response.status}; the validator saw ${JSON.stringify(seen)} but the backend got ${h.sent[0]?.request.pathAndQuery}: refuse the request or show every value`,
    ).toBe(false);
  });

  it("treats hmacFetcher failures as 500 (never cached) and unknown keys as InvalidAccessKeyId (cached briefly)", async () => {
    const h = setup();
    let mode: "throw" | "reject" | "secret" | "null" | "empty" | "number" = "throw";
    h.state.secrets = (accessKeyId) => {
      if (accessKeyId === CLIENT.accessKeyId) return CLIENT.secretAccessKey;
      switch (mode) {
        case "throw":
          throw new Error("fetcher-down");
        case "reject":
          return Promise.reject(new Error("fetcher-down"));
        case "secret":
          return "late/secret";
        case "null":
          return null;
        case "empty":
          return "";
        case "number":
          return 42;
      }
    };
    const late = { accessKeyId: "LATEKEY", secretAccessKey: "late/secret" };
    const request = () =>
      clientRequest({ method: "GET", path: "/data/k", credentials: late, atMs: h.clock.now() });
    await h.refused(request(), 500, "InternalError", "throw");
    mode = "reject";
    await h.refused(request(), 500, "InternalError", "reject");
    mode = "number";
    await h.refused(request(), 500, "InternalError", "number");
    // A failure is never remembered: the key works as soon as the fetcher does.
    mode = "secret";
    expect((await h.send(request())).status).toBe(200);
    expect(h.fetcherCalls.filter((key) => key === "LATEKEY")).toHaveLength(4);

    // null: unknown, remembered for negativeCacheTtlMs (default 30 s), then asked again.
    const fresh = { accessKeyId: "NEWKEY", secretAccessKey: "late/secret" };
    const newRequest = () =>
      clientRequest({ method: "GET", path: "/data/k", credentials: fresh, atMs: h.clock.now() });
    mode = "null";
    await h.refused(newRequest(), 403, "InvalidAccessKeyId", "null");
    mode = "secret";
    await h.refused(newRequest(), 403, "InvalidAccessKeyId", "negative-cached");
    h.clock.advance(30_001);
    expect((await h.send(newRequest())).status).toBe(200);
    expect(h.fetcherCalls.filter((key) => key === "NEWKEY")).toHaveLength(2);

    // An empty secret would let anyone sign: it is an unknown key, whatever the signature.
    mode = "empty";
    await h.refused(
      signedClientRequest({
        method: "GET",
        path: "/data/k",
        signingDate: new Date(h.clock.now()),
        credentials: { accessKeyId: "EMPTYKEY", secretAccessKey: "" },
      }),
      403,
      "InvalidAccessKeyId",
      "empty secret",
    );
  });

  it("releases a request whose hmacFetcher hangs once the client goes away", async () => {
    const h = setup();
    h.state.secrets = () => new Promise(() => {});
    const controller = new AbortController();
    const request = clientRequest({
      method: "GET",
      path: "/data/k",
      credentials: { accessKeyId: "HANGKEY", secretAccessKey: "x" },
    });
    const pending = h.proxy.handle({ ...request, signal: controller.signal });
    controller.abort(new Error("client gone"));
    const response = await pending;
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(h.sent).toHaveLength(0);
  });

  it("refuses bucketCredsFetcher garbage with 500 before any token exchange or upstream request, and retries next time", async () => {
    const h = setup();
    const garbage: Array<[string, () => unknown]> = [
      ["truncated JSON", () => '{"access_key":"AK","secret_key":"SK"'],
      ["null values", () => '{"access_key":null,"secret_key":null}'],
      ["one null", () => '{"access_key":"AK","secret_key":null}'],
      ["numbers", () => '{"access_key":1,"secret_key":2}'],
      ["empty secret", () => '{"access_key":"AK","secret_key":""}'],
      ["array", () => "[]"],
      ["empty object", () => "{}"],
      ["prototype trick", () => '{"__proto__":{"access_key":"AK","secret_key":"SK"}}'],
      ["null api key", () => '{"api_key":null}'],
      ["error text", () => "Error: no credentials for bucket!"],
      ["empty", () => ""],
      ["blank", () => "   "],
      ["non-string null", () => null],
      ["non-string number", () => 42],
      ["non-string object", () => ({ access_key: "AK", secret_key: "SK" })],
      [
        "throws",
        () => {
          throw new Error("creds-down");
        },
      ],
      ["rejects", () => Promise.reject(new Error("creds-down"))],
    ];
    for (const [label, answer] of garbage) {
      h.state.bucketCreds = answer;
      await h.refused(
        clientRequest({ method: "GET", path: "/fetched/k" }),
        500,
        "InternalError",
        label,
      );
    }
    expect(h.tokenRequests).toEqual([]);
    h.state.bucketCreds = () =>
      JSON.stringify({ access_key: "BACKENDKEY", secret_key: BACKEND_SECRET });
    expect((await h.send(clientRequest({ method: "GET", path: "/fetched/k" }))).status).toBe(200);
    await expect(verifyUpstream(h.sent[0]!)).resolves.toMatchObject({
      accessKeyId: "BACKENDKEY",
    });
    // A huge API key is just an API key: handed to the token provider, never echoed.
    const huge = "a".repeat(1_000_000);
    h.state.bucketCreds = () => huge;
    const other = clientRequest({ method: "GET", path: "/fetched/k", credentials: FETCHED });
    expect((await h.send(other)).status).toBe(200);
    expect(h.tokenRequests).toEqual([huge]);
    expect(upstreamHeader(h.sent.at(-1)!, "authorization")).toEqual(["Bearer bearer-token-1"]);
  });

  it("sends no 100 Continue and reads no body for any refusal; exactly one, after authorization and credentials, otherwise", async () => {
    const h = setup({ ttlSeconds: 0 });
    const log: string[] = [];
    const upload = (options: Partial<ClientOptions> & { path?: string } = {}): ProxyRequest => {
      const request = clientRequest({
        method: "PUT",
        path: "/data/k",
        body: "payload",
        ...options,
      });
      return {
        ...request,
        headers: [...request.headers, ["Expect", "100-continue"]],
        body: {
          async *[Symbol.asyncIterator]() {
            log.push("body read");
            yield new TextEncoder().encode("payload");
          },
        },
        sendContinue: () => void log.push("100 Continue"),
      };
    };
    h.state.policy = () => {
      log.push("validator");
      return true;
    };
    h.state.bucketCreds = () => {
      log.push("credentials");
      return JSON.stringify({ access_key: "BACKENDKEY", secret_key: BACKEND_SECRET });
    };
    const refusals: Array<[string, () => ProxyRequest, () => void, number, string]> = [
      [
        "bad signature",
        () => upload({ credentials: { ...CLIENT, secretAccessKey: "guess" } }),
        () => {},
        403,
        "SignatureDoesNotMatch",
      ],
      [
        "skewed",
        () => upload({ atMs: START_MS - 3_600_000 }),
        () => {},
        403,
        "RequestTimeTooSkewed",
      ],
      ["unknown bucket", () => upload({ path: "/nope/k" }), () => {}, 404, "NoSuchBucket"],
      ["denied", () => upload(), () => (h.state.policy = () => false), 403, "AccessDenied"],
      [
        "validator throws",
        () => upload(),
        () =>
          (h.state.policy = () => {
            throw new Error("x");
          }),
        500,
        "InternalError",
      ],
      [
        "credentials fail",
        () => upload({ path: "/fetched/k" }),
        () => {
          h.state.policy = () => true;
          h.state.bucketCreds = () => "{broken";
        },
        500,
        "InternalError",
      ],
    ];
    for (const [label, make, arrange, status, code] of refusals) {
      arrange();
      await h.refused(make(), status, code, label);
    }
    expect(log.filter((entry) => entry === "100 Continue" || entry === "body read")).toEqual([]);
    log.length = 0;
    h.state.policy = () => {
      log.push("validator");
      return true;
    };
    h.state.bucketCreds = () => {
      log.push("credentials");
      return JSON.stringify({ access_key: "BACKENDKEY", secret_key: BACKEND_SECRET });
    };
    expect((await h.send(upload({ path: "/fetched/k2" }))).status).toBe(200);
    expect(log).toEqual(["validator", "credentials", "100 Continue", "body read"]);
    expect(upstreamHeader(h.sent[0]!, "expect")).toEqual([]);
  });

  it("lists only the buckets the validator allows for ListBuckets; a failing validator fails the listing; nothing is forwarded", async () => {
    const h = setup({ ttlSeconds: 0 });
    h.state.policy = (_token, bucket, request) =>
      (request.operation === "ListBuckets" && bucket === "data") ||
      (request.operation === "GetObject" && bucket === "logs");
    const listed = await h.send(clientRequest({ method: "GET", path: "/" }));
    expect(listed.status).toBe(200);
    expect([...listed.text.matchAll(/<Name>([^<]+)<\/Name>/g)].map((match) => match[1])).toEqual([
      "data",
    ]);
    expect(new Set(h.asked.map((entry) => entry.request.operation))).toEqual(
      new Set(["ListBuckets"]),
    );
    h.state.policy = (_token, bucket) => {
      if (bucket === "logs") throw new Error("validator down");
      return true;
    };
    await h.refused(
      clientRequest({ method: "GET", path: "/", query: "x=1" }),
      500,
      "InternalError",
      "throwing",
    );
    h.state.policy = () => "yes";
    await h.refused(
      clientRequest({ method: "GET", path: "/", query: "x=2" }),
      500,
      "InternalError",
      "non-boolean",
    );
    h.state.policy = () => true;
    await h.refused(
      clientRequest({ method: "POST", path: "/" }),
      405,
      "MethodNotAllowed",
      "POST /",
    );
    await h.refused(
      { method: "GET", path: "/", query: "", headers: [["host", PROXY_HOST]], body: null },
      403,
      "AccessDenied",
      "anonymous",
    );
    expect(h.sent).toHaveLength(0);
  });

  it("refuses anonymous requests for unknown buckets as AccessDenied: no bucket enumeration without a key", async () => {
    const h = setup();
    const anonymous = (path: string): ProxyRequest => ({
      method: "GET",
      path,
      query: "",
      headers: [["host", PROXY_HOST]],
      body: null,
    });
    await h.refused(anonymous("/nope/k"), 403, "AccessDenied", "unknown");
    await h.refused(anonymous("/data/k"), 403, "AccessDenied", "known");
    await h.refused(
      clientRequest({ method: "GET", path: "/nope/k" }),
      404,
      "NoSuchBucket",
      "signed",
    );
    expect(h.asked).toEqual([]);
  });

  it("refuses copy sources outside the served buckets and authorizes the source the backend will read", async () => {
    const h = setup();
    h.state.policy = (_token, bucket, request) =>
      !(bucket === "logs" && request.operation === "GetObject");
    const copy = (source: string) =>
      clientRequest({ method: "PUT", path: "/data/dst", headers: [["x-amz-copy-source", source]] });
    await h.refused(copy("/backend-private/k"), 404, "NoSuchBucket", "unserved");
    await h.refused(copy("/aliased-real/k"), 404, "NoSuchBucket", "backend alias name");
    await h.refused(copy("/real-bucket/k"), 404, "NoSuchBucket", "virtual alias name");
    await h.refused(copy("data%2F..%2Flogs/k"), 404, "NoSuchBucket", "encoded slash");
    await h.refused(copy("/elsewhere/k"), 400, "InvalidRequest", "other backend");
    await h.refused(copy("/logs/k"), 403, "AccessDenied", "denied source");
    await h.refused(copy("/%6Cogs/k"), 403, "AccessDenied", "encoded denied source");
    await h.refused(copy("/DATA/../logs/k"), 404, "NoSuchBucket", "case");
    for (const source of ["", "/data", "/data/", "//data/k", "data"]) {
      await h.refused(copy(source), 400, "InvalidArgument", `malformed '${source}'`);
    }
    // Dot segments stay inside the authorized source bucket, byte for byte.
    expect((await h.send(copy("/data/../logs/k"))).status).toBe(200);
    expect(h.asked.at(-1)!).toMatchObject({
      bucket: "data",
      request: { operation: "GetObject", key: "../logs/k" },
    });
    expect(upstreamHeader(h.sent.at(-1)!, "x-amz-copy-source")).toEqual(["/data/../logs/k"]);
    // An alias is rewritten to the source's backend name.
    expect((await h.send(copy("/aliased/k%2Bv?versionId=7"))).status).toBe(200);
    expect(upstreamHeader(h.sent.at(-1)!, "x-amz-copy-source")).toEqual([
      "/aliased-real/k%2Bv?versionId=7",
    ]);
    await expect(verifyUpstream(h.sent.at(-1)!)).resolves.toBeDefined();
  });

  it("regression: a second x-amz-copy-source header reaches the backend without being authorized", async () => {
    // The client signs both headers (S3 joins repeated headers in the canonical request), the
    // proxy authorizes only the first, and forwards both.
    const h = setup();
    h.state.policy = (_token, bucket, request) =>
      !(bucket === "logs" && request.operation === "GetObject");
    const response = await h.send(
      clientRequest({
        method: "PUT",
        path: "/data/dst",
        headers: [
          ["x-amz-copy-source", "/data/public"],
          ["x-amz-copy-source", "/logs/secret"],
        ],
      }),
    );
    const authorized = h.asked
      .filter((entry) => entry.request.operation === "GetObject")
      .map((entry) => `/${entry.bucket}/${entry.request.key}`);
    const forwarded = h.sent.flatMap((entry) => upstreamHeader(entry, "x-amz-copy-source"));
    const unauthorized = forwarded.filter((source) => !authorized.includes(source));
    expect(
      unauthorized,
      `status ${response.status}; authorized ${JSON.stringify(authorized)}`,
    ).toEqual([]);
  });

  it("regression: x-amz-copy-source in the query of a header-signed PUT is authorized as CopyObject but uploads the body", async () => {
    // Only presigned requests hoist x-amz-* query parameters into headers, yet the operation name
    // (and the source check) take the query form for every request.
    const h = setup();
    h.state.policy = (_token, _bucket, request) => request.operation !== "PutObject";
    const response = await h.send(
      clientRequest({
        method: "PUT",
        path: "/data/dst",
        query: "x-amz-copy-source=%2Fdata%2Fsrc",
        body: "bytes the validator never agreed to",
      }),
    );
    const upstreamIsCopy = h.sent.every(
      (entry) => upstreamHeader(entry, "x-amz-copy-source").length > 0,
    );
    expect(
      { status: response.status, operation: h.asked[0]?.request.operation, upstreamIsCopy },
      "a PutObject must be authorized as PutObject",
    ).toMatchObject({ upstreamIsCopy: true });
  });

  it("gives the validator the listener's client address, never one from X-Forwarded-For or Forwarded", async () => {
    const h = setup();
    const request = clientRequest({
      method: "GET",
      path: "/data/k",
      headers: [
        ["x-forwarded-for", "10.0.0.1"],
        ["forwarded", "for=10.0.0.1"],
      ],
    });
    expect((await h.send({ ...request, remoteAddress: "203.0.113.9" })).status).toBe(200);
    expect(h.asked[0]!.request.remoteAddress).toBe("203.0.113.9");
    // Even signed, they are proxy headers: never forwarded to the backend.
    expect(upstreamHeader(h.sent[0]!, "x-forwarded-for")).toEqual([]);
    expect(upstreamHeader(h.sent[0]!, "forwarded")).toEqual([]);
  });

  it("turns a flood of backend 401/403 answers into at most one forced token refresh per API key and 30 s", async () => {
    const h = setup();
    h.setUpstreamStatus(403);
    for (let index = 0; index < 20; index++) {
      const response = await h.send(
        clientRequest({ method: "GET", path: `/ibm/k${index}`, atMs: h.clock.now() }),
      );
      expect(response.status).toBe(403);
    }
    expect(h.forcedRefreshes).toEqual(["ibm-api-key"]);
    h.clock.advance(30_000);
    await h.send(clientRequest({ method: "GET", path: "/ibm/again", atMs: h.clock.now() }));
    expect(h.forcedRefreshes).toEqual(["ibm-api-key", "ibm-api-key"]);
  });

  it("regression: forwards CR/LF from presigned query parameters into upstream header values", async () => {
    // The URL's creator signs x-amz-meta-* as query parameters; the proxy turns them back into
    // headers without checking that they are valid header values (header injection towards a
    // transport that does not validate).
    const h = setup();
    const presigned = await presignedClientRequest({
      method: "PUT",
      path: "/data/k",
      signingDate: START,
      expiresInSeconds: 60,
      signedHeaders: { "x-amz-meta-note": "a\r\nx-injected: 1" },
      body: Buffer.from("x"),
    });
    expect(presigned.query).toContain("x-amz-meta-note=");
    await h.send(presigned);
    const values = h.sent.flatMap((entry) =>
      entry.request.headers.map(([name, value]) => `${name}: ${value}`),
    );
    expect(
      values.filter((line) => /[\r\n\0]/.test(line)),
      "no upstream header may carry CR, LF or NUL",
    ).toEqual([]);
  });
});
