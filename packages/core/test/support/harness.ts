// Wires a proxy to the recording backend through the node:http test transport, with a manual
// clock, so each integration test reads as: configure, send a client request, inspect both ends.

import {
  createProxy,
  type BearerTokenProvider,
  type Proxy,
  type ProxyConfigInput,
  type ProxyDependencies,
  type ProxyRequest,
  type ProxyResponse,
} from "../../src/index.ts";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { createNodeTransport, type NodeTransport } from "./node-transport.ts";
import {
  startRecordingBackend,
  type BackendOptions,
  type RecordingBackend,
} from "./recording-backend.ts";

export const START = new Date(Date.UTC(2030, 0, 1, 12, 0, 0));
export const BACKEND_KEYS = { BACKENDKEY: "backend/secret+key", OTHERKEY: "other-backend-secret" };

export interface HarnessOptions {
  readonly config?: (backend: RecordingBackend) => ProxyConfigInput;
  readonly backend?: BackendOptions;
  readonly deps?: Partial<ProxyDependencies>;
}

export interface Harness {
  readonly backend: RecordingBackend;
  readonly transport: NodeTransport;
  readonly proxy: Proxy;
  readonly clock: { now: () => number; advance(ms: number): void; set(ms: number): void };
  readonly bearer: ReturnType<typeof fakeBearerTokens>;
  /** Sends through the proxy and reads the whole response body. */
  send(request: ProxyRequest | Promise<ProxyRequest>): Promise<{
    response: ProxyResponse;
    status: number;
    text: string;
    body: Buffer;
    header(name: string): string | undefined;
  }>;
  close(): Promise<void>;
}

export const readBody = async (body: AsyncIterable<Uint8Array> | null): Promise<Buffer> => {
  if (body == null) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
};

/** The standard test buckets on one recording backend. */
export const standardConfig = (backend: RecordingBackend): ProxyConfigInput => ({
  cosMap: {
    // Path style over plain HTTP, static HMAC (MinIO/Ceph style).
    data: {
      host: "127.0.0.1",
      port: backend.port,
      tls: false,
      addressingStyle: "path",
      accessKey: "BACKENDKEY",
      secretKey: BACKEND_KEYS.BACKENDKEY,
    },
    // Virtual host with an alias.
    virtual: {
      host: "s3.test",
      port: backend.port,
      tls: false,
      backendBucket: "real-bucket",
      accessKey: "BACKENDKEY",
      secretKey: BACKEND_KEYS.BACKENDKEY,
    },
    // Path style with an alias, to test copy-source rewriting.
    aliased: {
      host: "127.0.0.1",
      port: backend.port,
      tls: false,
      addressingStyle: "path",
      backendBucket: "aliased-real",
      accessKey: "BACKENDKEY",
      secretKey: BACKEND_KEYS.BACKENDKEY,
    },
    // An older backend: no trailer encodings (Ceph RGW 16).
    legacy: {
      host: "127.0.0.1",
      port: backend.port,
      tls: false,
      addressingStyle: "path",
      accessKey: "BACKENDKEY",
      secretKey: BACKEND_KEYS.BACKENDKEY,
      uploadEncodings: "signed-chunks",
    },
    // IBM COS style: API key → bearer.
    ibm: {
      host: "127.0.0.1",
      port: backend.port,
      tls: false,
      addressingStyle: "path",
      apiKey: "ibm-api-key",
    },
    // logs, for the key-split test.
    logs: {
      host: "127.0.0.1",
      port: backend.port,
      tls: false,
      addressingStyle: "path",
      accessKey: "BACKENDKEY",
      secretKey: BACKEND_KEYS.BACKENDKEY,
    },
  },
  hmacKeystore: [{ accessKey: "CLIENTKEY", secretKey: "client/secret+key" }],
  virtualHostDomains: ["proxy.test"],
});

/** A bearer token provider that hands out `token-<n>` and counts its calls. */
export const fakeBearerTokens = () => {
  let generation = 1;
  const calls: Array<{ apiKey: string; forceRefresh: boolean }> = [];
  const provider: BearerTokenProvider = {
    async getToken(apiKey, options) {
      calls.push({ apiKey, forceRefresh: options?.forceRefresh === true });
      if (options?.forceRefresh === true) generation += 1;
      return `token-${generation}`;
    },
  };
  return { provider, calls, current: () => `token-${generation}` };
};

export const createHarness = async (options: HarnessOptions = {}): Promise<Harness> => {
  const bearer = fakeBearerTokens();
  const backend = await startRecordingBackend({
    keys: BACKEND_KEYS,
    tokens: () => new Set([bearer.current()]),
    ...options.backend,
  });
  const transport = createNodeTransport();
  let nowMs = START.getTime();
  const clock = {
    now: () => nowMs,
    advance: (ms: number) => void (nowMs += ms),
    set: (ms: number) => void (nowMs = ms),
  };
  const proxy = createProxy((options.config ?? standardConfig)(backend), {
    transport,
    now: clock.now,
    crypto: nodeCryptoProvider,
    createRequestId: () => "REQ0000000000001",
    bearerTokens: bearer.provider,
    ...options.deps,
  });
  return {
    backend,
    transport,
    proxy,
    clock,
    bearer,
    async send(request) {
      const response = await proxy.handle(await request);
      const body = await readBody(response.body);
      return {
        response,
        status: response.status,
        body,
        text: body.toString("utf8"),
        header: (name: string) =>
          response.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1],
      };
    },
    close: () => backend.close(),
  };
};
