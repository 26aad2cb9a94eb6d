// The behaviour every BearerTokenProvider must have, as a reusable vitest suite. It starts a fake
// IBM Cloud IAM token endpoint on loopback and hands the provider its URL and a clock the suite
// controls, so caching, expiry, single-flight and error handling are checked without real time.
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OspError } from "../errors.ts";
import type { BearerTokenProvider } from "../ports.ts";

/** What the suite gives `makeProvider`. @public */
export interface BearerTokenContractEnvironment {
  /**
   * A loopback token endpoint speaking the IBM IAM API-key grant: `POST` of
   * `grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=…` as
   * `application/x-www-form-urlencoded`, answered with `{access_token, expiration, expires_in, …}`.
   */
  readonly tokenUrl: string;
  /** The clock the suite controls (epoch ms); the provider must read time only from it. */
  readonly now: () => number;
}

const GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey";
const TOKEN_LIFETIME_SECONDS = 3600;
const START_MS = Date.UTC(2030, 0, 1);

const withTimeout = <T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/**
 * The fake IAM. API keys choose the behaviour by prefix: `valid-` succeeds, `rejected-` gets
 * IAM's 400 for an unknown key, `flaky-` gets a 503 on its first exchange only, `malformed-` gets
 * a 200 that is not JSON, `hang-` is never answered.
 */
interface FakeIam {
  readonly url: string;
  readonly exchanges: (apiKey: string) => number;
  readonly started: (apiKey: string) => Promise<void>;
  close(): Promise<void>;
}

const startFakeIam = async (now: () => number): Promise<FakeIam> => {
  const counts = new Map<string, number>();
  const startWaiters = new Map<string, Array<() => void>>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const contentType = req.headers["content-type"] ?? "";
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const apiKey = form.get("apikey") ?? "";
      const answer = (status: number, body: string, type = "application/json"): void => {
        res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
        res.end(body);
      };
      if (
        req.method !== "POST" ||
        !contentType.startsWith("application/x-www-form-urlencoded") ||
        form.get("grant_type") !== GRANT_TYPE ||
        apiKey === ""
      ) {
        answer(
          400,
          JSON.stringify({ errorCode: "BXNIM0109E", errorMessage: "Property missing or empty." }),
        );
        return;
      }
      const count = (counts.get(apiKey) ?? 0) + 1;
      counts.set(apiKey, count);
      for (const wake of startWaiters.get(apiKey) ?? []) wake();
      startWaiters.delete(apiKey);
      if (apiKey.startsWith("hang-")) return;
      if (apiKey.startsWith("rejected-")) {
        answer(
          400,
          JSON.stringify({
            errorCode: "BXNIM0415E",
            errorMessage: "Provided API key could not be found.",
          }),
        );
        return;
      }
      if (apiKey.startsWith("flaky-") && count === 1) {
        answer(503, "<html>Service Unavailable</html>", "text/html");
        return;
      }
      if (apiKey.startsWith("malformed-")) {
        answer(200, "<html>not json</html>", "text/html");
        return;
      }
      const keyTag = createHash("sha256").update(apiKey).digest("hex").slice(0, 12);
      const issuedSeconds = Math.floor(now() / 1000);
      answer(
        200,
        JSON.stringify({
          access_token: `token-${keyTag}-${count}`,
          refresh_token: "not_supported",
          token_type: "Bearer",
          expires_in: TOKEN_LIFETIME_SECONDS,
          expiration: issuedSeconds + TOKEN_LIFETIME_SECONDS,
          scope: "ibm openid",
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/identity/token`,
    exchanges: (apiKey) => counts.get(apiKey) ?? 0,
    started: (apiKey) =>
      (counts.get(apiKey) ?? 0) > 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const waiters = startWaiters.get(apiKey) ?? [];
            waiters.push(resolve);
            startWaiters.set(apiKey, waiters);
          }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

let keySerial = 0;
/** A fresh API key per test so exchange counts never mix. */
const apiKey = (prefix: "valid" | "rejected" | "flaky" | "malformed" | "hang"): string =>
  `${prefix}-ApiKey${(keySerial += 1)}-Z8xQ_s3cr3tMaterial`;

const settle = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => new Error(`expected a rejection, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );

const expectNoSecret = (error: unknown, secret: string): void => {
  expect(OspError.is(error), `expected an OspError, got ${String(error)}`).toBe(true);
  const { message, detail } = error as OspError;
  expect(message).not.toContain(secret);
  expect(JSON.stringify(detail)).not.toContain(secret);
  expect(message).not.toMatch(/\n\s+at /);
};

/**
 * Registers the bearer-token provider contract: the exchange, caching until shortly before
 * expiry, single-flight, per-key isolation, `forceRefresh`, typed errors that never contain the
 * API key, failures not cached, and abort. `makeProvider` is called once per test.
 * @public
 */
export const describeBearerTokenProvider = (
  name: string,
  makeProvider: (
    environment: BearerTokenContractEnvironment,
  ) => BearerTokenProvider | Promise<BearerTokenProvider>,
): void => {
  describe(`BearerTokenProvider contract: ${name}`, () => {
    let clockMs = START_MS;
    const now = (): number => clockMs;
    let iam: FakeIam;
    let provider: BearerTokenProvider;

    beforeAll(async () => {
      iam = await startFakeIam(now);
    });

    afterAll(async () => {
      await iam?.close();
    });

    beforeEach(async () => {
      clockMs = START_MS;
      provider = await makeProvider({ tokenUrl: iam.url, now });
    });

    const tokenPrefix = (key: string): string =>
      `token-${createHash("sha256").update(key).digest("hex").slice(0, 12)}-`;

    it("exchanges an API key for the token the endpoint issued", async () => {
      const key = apiKey("valid");
      const token = await withTimeout(provider.getToken(key), "the token");
      expect(token).toBe(`${tokenPrefix(key)}1`);
      expect(iam.exchanges(key)).toBe(1);
    });

    it("serves a cached token without another exchange", async () => {
      const key = apiKey("valid");
      const first = await withTimeout(provider.getToken(key), "the token");
      clockMs += 60_000;
      const second = await withTimeout(provider.getToken(key), "the cached token");
      expect(second).toBe(first);
      expect(iam.exchanges(key)).toBe(1);
    });

    it("shares one exchange among concurrent callers", async () => {
      const key = apiKey("valid");
      const tokens = await withTimeout(
        Promise.all(Array.from({ length: 50 }, () => provider.getToken(key))),
        "50 concurrent tokens",
      );
      expect(new Set(tokens).size).toBe(1);
      expect(iam.exchanges(key)).toBe(1);
    });

    it("keeps tokens of different API keys apart", async () => {
      const first = apiKey("valid");
      const second = apiKey("valid");
      const [a, b] = await withTimeout(
        Promise.all([provider.getToken(first), provider.getToken(second)]),
        "two tokens",
      );
      expect(a.startsWith(tokenPrefix(first))).toBe(true);
      expect(b.startsWith(tokenPrefix(second))).toBe(true);
      expect(iam.exchanges(first)).toBe(1);
      expect(iam.exchanges(second)).toBe(1);
    });

    it("exchanges again on forceRefresh", async () => {
      const key = apiKey("valid");
      const first = await withTimeout(provider.getToken(key), "the token");
      const refreshed = await withTimeout(
        provider.getToken(key, { forceRefresh: true }),
        "the refreshed token",
      );
      expect(refreshed).not.toBe(first);
      expect(refreshed).toBe(`${tokenPrefix(key)}2`);
      expect(iam.exchanges(key)).toBe(2);
    });

    it("never serves a token past its expiration", async () => {
      const key = apiKey("valid");
      const first = await withTimeout(provider.getToken(key), "the token");
      clockMs += (TOKEN_LIFETIME_SECONDS + 1) * 1000;
      const later = await withTimeout(provider.getToken(key), "a new token");
      expect(later).not.toBe(first);
      expect(iam.exchanges(key)).toBe(2);
    });

    it("rejects a refused API key with an OspError that does not contain the key", async () => {
      const key = apiKey("rejected");
      const error = await withTimeout(settle(provider.getToken(key)), "the rejection");
      expectNoSecret(error, key);
    });

    it("rejects an unavailable endpoint with ServiceUnavailable and does not cache the failure", async () => {
      const key = apiKey("flaky");
      const error = await withTimeout(settle(provider.getToken(key)), "the rejection");
      expectNoSecret(error, key);
      expect(error).toMatchObject({ code: "ServiceUnavailable", status: 503 });
      const token = await withTimeout(provider.getToken(key), "the token after recovery");
      expect(token).toBe(`${tokenPrefix(key)}2`);
    });

    it("rejects an answer that is not a token with an OspError", async () => {
      const key = apiKey("malformed");
      const error = await withTimeout(settle(provider.getToken(key)), "the rejection");
      expectNoSecret(error, key);
    });

    it("gives up when the caller's signal aborts", async () => {
      const key = apiKey("hang");
      const controller = new AbortController();
      const pending = settle(provider.getToken(key, { signal: controller.signal }));
      await withTimeout(iam.started(key), "the exchange to start");
      controller.abort(new Error("client went away"));
      const error = await withTimeout(pending, "the aborted call to settle", 2_000);
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).not.toContain(key);
    });
  });
};
