import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OspError } from "@osp/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createIbmIamTokenProvider,
  IBM_IAM_APIKEY_GRANT_TYPE,
  type IamCacheEvent,
} from "../src/index.ts";

/** An IBM-style API key with characters that need URL encoding. */
const API_KEY = "aB3+dE/f_G-h=iJkLmNoPqRsTuVwXyZ0123456789a&b";
const START_MS = Date.UTC(2030, 5, 1, 12, 0, 0);
const MINUTE_MS = 60_000;

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; body: string; contentType?: string } | "hang";

/** The fake IAM: records every request and answers with what the current test scripted. */
const startFakeIam = async () => {
  const recorded: Recorded[] = [];
  let answer: (request: Recorded, index: number) => Answer = () => ({ status: 500, body: "{}" });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      recorded.push(request);
      const scripted = answer(request, recorded.length);
      if (scripted === "hang") return;
      res.writeHead(scripted.status, {
        "content-type": scripted.contentType ?? "application/json",
        "content-length": Buffer.byteLength(scripted.body),
      });
      res.end(scripted.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/identity/token`,
    recorded,
    script: (next: typeof answer) => {
      answer = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const tokenAnswer = (
  token: string,
  expirationSeconds: number,
  expiresInSeconds = 3600,
): Answer => ({
  status: 200,
  body: JSON.stringify({
    access_token: token,
    refresh_token: "not_supported",
    token_type: "Bearer",
    expires_in: expiresInSeconds,
    expiration: expirationSeconds,
    scope: "ibm openid",
  }),
});

const settle = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error("expected a rejection"),
    (error: unknown) => error,
  );

/** Asserts an OspError whose message, detail and cause chain never mention the key. */
const expectKeyFree = (error: unknown): OspError => {
  expect(OspError.is(error), String(error)).toBe(true);
  const osp = error as OspError;
  const encoded = encodeURIComponent(API_KEY);
  const texts = [osp.message, JSON.stringify(osp.detail), String(osp.stack)];
  for (
    let cause: unknown = osp.cause;
    cause != null;
    cause = (cause as { cause?: unknown }).cause
  ) {
    texts.push(String(cause), String((cause as Error).stack));
  }
  for (const text of texts) {
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(encoded);
  }
  return osp;
};

describe("createIbmIamTokenProvider against a fake IAM", () => {
  let iam: Awaited<ReturnType<typeof startFakeIam>>;
  let clockMs = START_MS;
  const now = () => clockMs;
  const expirationIn = (ms: number) => Math.floor((clockMs + ms) / 1000);

  beforeAll(async () => {
    iam = await startFakeIam();
  });
  afterAll(async () => {
    await iam?.close();
  });
  beforeEach(() => {
    clockMs = START_MS;
    iam.recorded.length = 0;
  });

  it("posts exactly the API-key grant as a form, asking for JSON", async () => {
    iam.script(() => tokenAnswer("tok-1", expirationIn(60 * MINUTE_MS)));
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    expect(iam.recorded).toHaveLength(1);
    const [request] = iam.recorded;
    expect(request!.method).toBe("POST");
    expect(request!.url).toBe("/identity/token");
    expect(request!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request!.headers.accept).toBe("application/json");
    expect(request!.headers.authorization).toBeUndefined();
    const form = new URLSearchParams(request!.body);
    expect([...form.keys()]).toEqual(["grant_type", "apikey"]);
    expect(form.get("grant_type")).toBe(IBM_IAM_APIKEY_GRANT_TYPE);
    expect(form.get("apikey")).toBe(API_KEY);
    // Every reserved character of the key is percent-encoded on the wire.
    expect(request!.body).not.toContain("&b");
    expect(
      request!.body.startsWith(
        "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=",
      ),
    ).toBe(true);
  });

  it("serves the cached token, refreshing it in the background late in its life", async () => {
    let issued = 0;
    iam.script(() => tokenAnswer(`tok-${(issued += 1)}`, expirationIn(60 * MINUTE_MS)));
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs = START_MS + 40 * MINUTE_MS;
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    expect(iam.recorded).toHaveLength(1);
    clockMs = START_MS + 55 * MINUTE_MS - 1;
    // Past 80 % of the 55-minute cache lifetime: the cached token is served and one refresh starts.
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    await expect.poll(() => iam.recorded.length).toBe(2);
    await expect.poll(() => provider.getToken(API_KEY)).toBe("tok-2");
  });

  it("never serves a token within the margin of its expiration", async () => {
    let issued = 0;
    iam.script(() => tokenAnswer(`tok-${(issued += 1)}`, expirationIn(60 * MINUTE_MS)));
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs = START_MS + 55 * MINUTE_MS;
    expect(await provider.getToken(API_KEY)).toBe("tok-2");
    expect(iam.recorded).toHaveLength(2);
  });

  it("honours a custom refresh margin", async () => {
    let issued = 0;
    iam.script(() => tokenAnswer(`tok-${(issued += 1)}`, expirationIn(60 * MINUTE_MS)));
    const provider = createIbmIamTokenProvider({
      tokenUrl: iam.url,
      now,
      refreshMarginMs: 30 * MINUTE_MS,
    });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs = START_MS + 30 * MINUTE_MS;
    expect(await provider.getToken(API_KEY)).toBe("tok-2");
  });

  it("caches a token whose expiration is already inside the margin for ten seconds only", async () => {
    let issued = 0;
    // IAM's clock far behind ours, or a token about to expire: expiration is 1 minute away.
    iam.script(() => tokenAnswer(`tok-${(issued += 1)}`, expirationIn(MINUTE_MS)));
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs += 7_000;
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    expect(iam.recorded).toHaveLength(1);
    clockMs = START_MS + 10_000;
    expect(await provider.getToken(API_KEY)).toBe("tok-2");
  });

  it("caches a token whose expiration is in the past for ten seconds, never forever", async () => {
    let issued = 0;
    iam.script(() => tokenAnswer(`tok-${(issued += 1)}`, expirationIn(-2 * 60 * MINUTE_MS)));
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs += 5_000;
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs += 5_000;
    expect(await provider.getToken(API_KEY)).toBe("tok-2");
    expect(iam.recorded).toHaveLength(2);
  });

  it("caps a far-future expiration at 24 hours", async () => {
    let issued = 0;
    iam.script(() => tokenAnswer(`tok-${(issued += 1)}`, 32_503_680_000 /* year 3000 */));
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs += 24 * 60 * MINUTE_MS;
    expect(await provider.getToken(API_KEY)).toBe("tok-2");
  });

  it("uses expires_in when expiration is missing", async () => {
    let issued = 0;
    iam.script(() => ({
      status: 200,
      body: JSON.stringify({ access_token: `tok-${(issued += 1)}`, expires_in: 3600 }),
    }));
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs += 54 * MINUTE_MS;
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs += MINUTE_MS;
    expect(await provider.getToken(API_KEY)).toBe("tok-2");
  });

  it("shares one exchange among 100 concurrent callers", async () => {
    const release: Array<() => void> = [];
    iam.script(() => tokenAnswer("tok-shared", expirationIn(60 * MINUTE_MS)));
    const provider = createIbmIamTokenProvider({
      tokenUrl: iam.url,
      now,
      // Holds the single exchange until all 100 callers are waiting on it.
      fetch: async (input, init) => {
        await new Promise<void>((resolve) => release.push(resolve));
        return fetch(input, init);
      },
    });
    const events: IamCacheEvent[] = [];
    const observed = createIbmIamTokenProvider({
      tokenUrl: iam.url,
      now,
      onCacheEvent: (event) => events.push(event),
    });
    const pending = Array.from({ length: 100 }, () => provider.getToken(API_KEY));
    await expect.poll(() => release.length).toBe(1);
    release[0]!();
    const tokens = await Promise.all(pending);
    expect(new Set(tokens)).toEqual(new Set(["tok-shared"]));
    expect(iam.recorded).toHaveLength(1);
    expect(provider.stats()).toMatchObject({ loads: 1, misses: 100 });

    await Promise.all(Array.from({ length: 3 }, () => observed.getToken(API_KEY)));
    await observed.getToken(API_KEY);
    expect(events.map((event) => event.result)).toEqual(["miss", "inflight", "inflight", "hit"]);
  });

  it("keeps using a token IAM still honours while IAM is down, until a minute before expiration", async () => {
    let calls = 0;
    iam.script(() =>
      (calls += 1) === 1
        ? tokenAnswer("tok-1", expirationIn(60 * MINUTE_MS))
        : { status: 503, body: "<html>down</html>", contentType: "text/html" },
    );
    const events: IamCacheEvent[] = [];
    const provider = createIbmIamTokenProvider({
      tokenUrl: iam.url,
      now,
      onCacheEvent: (event) => events.push(event),
    });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    clockMs = START_MS + 56 * MINUTE_MS;
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    expect(events.at(-1)).toEqual({ result: "stale" });
    clockMs = START_MS + 59 * MINUTE_MS + 1000;
    const error = expectKeyFree(await settle(provider.getToken(API_KEY)));
    expect(error).toMatchObject({ code: "ServiceUnavailable" });
  });

  it("exchanges again on forceRefresh and after invalidate", async () => {
    let issued = 0;
    iam.script(() => tokenAnswer(`tok-${(issued += 1)}`, expirationIn(60 * MINUTE_MS)));
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(await provider.getToken(API_KEY)).toBe("tok-1");
    expect(await provider.getToken(API_KEY, { forceRefresh: true })).toBe("tok-2");
    expect(await provider.getToken(API_KEY)).toBe("tok-2");
    provider.invalidate(API_KEY);
    expect(await provider.getToken(API_KEY)).toBe("tok-3");
    expect(iam.recorded).toHaveLength(3);
  });

  it("maps a rejected API key (400, 401) to a proxy InternalError naming IAM's code, not the key", async () => {
    for (const status of [400, 401]) {
      iam.script(() => ({
        status,
        body: JSON.stringify({
          errorCode: "BXNIM0415E",
          errorMessage: `Provided API key could not be found: ${API_KEY}`,
          context: { requestId: "abc" },
        }),
      }));
      const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
      const error = expectKeyFree(await settle(provider.getToken(API_KEY)));
      expect(error).toMatchObject({ code: "InternalError", status: 500, source: "proxy" });
      expect(error.message).toBe(
        `IBM Cloud IAM rejected the configured API key (HTTP ${status}, BXNIM0415E); check the bucket's API key`,
      );
    }
  });

  it("maps IAM 5xx to ServiceUnavailable and does not cache the failure", async () => {
    let calls = 0;
    iam.script(() =>
      (calls += 1) === 1
        ? { status: 502, body: "<html>bad gateway</html>", contentType: "text/html" }
        : tokenAnswer("tok-ok", expirationIn(60 * MINUTE_MS)),
    );
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    const error = expectKeyFree(await settle(provider.getToken(API_KEY)));
    expect(error).toMatchObject({ code: "ServiceUnavailable", status: 503, source: "upstream" });
    expect(await provider.getToken(API_KEY)).toBe("tok-ok");
  });

  it("maps 429 to SlowDown and another 4xx to a proxy InternalError", async () => {
    iam.script(() => ({ status: 429, body: "{}" }));
    const throttled = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    expect(expectKeyFree(await settle(throttled.getToken(API_KEY)))).toMatchObject({
      code: "SlowDown",
      status: 503,
    });
    iam.script(() => ({ status: 404, body: "not here" }));
    const misconfigured = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    const error = expectKeyFree(await settle(misconfigured.getToken(API_KEY)));
    expect(error).toMatchObject({ code: "InternalError", source: "proxy" });
    expect(error.message).toContain("check the token URL");
  });

  it.each([
    ["not JSON", { status: 200, body: "<html>login</html>", contentType: "text/html" }],
    ["no access_token", { status: 200, body: JSON.stringify({ expiration: 1, expires_in: 3600 }) }],
    [
      "empty access_token",
      { status: 200, body: JSON.stringify({ access_token: "", expires_in: 3600 }) },
    ],
    ["no expiry", { status: 200, body: JSON.stringify({ access_token: "tok" }) }],
    [
      "negative expiry",
      {
        status: 200,
        body: JSON.stringify({ access_token: "tok", expiration: -5, expires_in: -5 }),
      },
    ],
    ["a JSON array", { status: 200, body: "[]" }],
  ] as const)("maps a malformed answer (%s) to InternalError", async (_label, answer) => {
    iam.script(() => answer);
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    const error = expectKeyFree(await settle(provider.getToken(API_KEY)));
    expect(error).toMatchObject({ code: "InternalError", status: 500, source: "upstream" });
    expect(error.message).toContain("malformed token response");
  });

  it("maps an unreachable IAM to ServiceUnavailable", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const provider = createIbmIamTokenProvider({
      tokenUrl: `http://127.0.0.1:${port}/identity/token`,
      now,
    });
    const error = expectKeyFree(await settle(provider.getToken(API_KEY)));
    expect(error).toMatchObject({ code: "ServiceUnavailable", source: "upstream" });
    expect(error.message).toBe("IBM Cloud IAM is unreachable (ECONNREFUSED)");
  });

  it("maps an IAM that does not answer within timeoutMs to ServiceUnavailable", async () => {
    iam.script(() => "hang");
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now, timeoutMs: 150 });
    const error = expectKeyFree(await settle(provider.getToken(API_KEY)));
    expect(error).toMatchObject({ code: "ServiceUnavailable", source: "upstream" });
    expect(error.message).toBe("IBM Cloud IAM did not answer within 150 ms");
  });

  it("lets a caller give up with its signal while the exchange goes on for others", async () => {
    const release: Array<() => void> = [];
    iam.script(() => tokenAnswer("tok-late", expirationIn(60 * MINUTE_MS)));
    const provider = createIbmIamTokenProvider({
      tokenUrl: iam.url,
      now,
      fetch: async (input, init) => {
        await new Promise<void>((resolve) => release.push(resolve));
        return fetch(input, init);
      },
    });
    const controller = new AbortController();
    const impatient = settle(provider.getToken(API_KEY, { signal: controller.signal }));
    const patient = provider.getToken(API_KEY);
    await expect.poll(() => release.length).toBe(1);
    const reason = new Error("client went away");
    controller.abort(reason);
    expect(await impatient).toBe(reason);
    release[0]!();
    expect(await patient).toBe("tok-late");
  });

  it("refuses an empty API key without calling IAM", async () => {
    const provider = createIbmIamTokenProvider({ tokenUrl: iam.url, now });
    const error = await settle(provider.getToken("  "));
    expect(error).toMatchObject({ code: "InternalError", source: "proxy" });
    expect(iam.recorded).toHaveLength(0);
  });

  it("validates its options eagerly", () => {
    expect(() =>
      createIbmIamTokenProvider({ tokenUrl: "iam.cloud.ibm.com/identity/token" }),
    ).toThrow(/tokenUrl/);
    expect(() => createIbmIamTokenProvider({ tokenUrl: "ftp://iam.example/token" })).toThrow(
      /tokenUrl/,
    );
    expect(() => createIbmIamTokenProvider({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createIbmIamTokenProvider({ refreshMarginMs: -1 })).toThrow(/refreshMarginMs/);
    expect(() => createIbmIamTokenProvider({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
