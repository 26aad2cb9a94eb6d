// Shared by the loopback tests: clients, raw signed requests, digests.
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { signRequest } from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { expect } from "vitest";

export const ACCESS_KEY_ID = "AKIALOCALS3TEST00001";
export const SECRET_ACCESS_KEY = "local-s3-test-secret-key/with+chars=";
export const CREDENTIALS = [{ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }];

export const sha256Hex = (data: Uint8Array | string): string =>
  createHash("sha256").update(data).digest("hex");

export const md5Hex = (data: Uint8Array | string): string =>
  createHash("md5").update(data).digest("hex");

/** Deterministic-length random bytes (content does not matter, digests are compared). */
export const randomBody = (sizeBytes: number): Buffer => randomBytes(sizeBytes);

/** An SDK client at its defaults apart from the endpoint, path style and the key. */
export const makeClient = (
  url: string,
  overrides: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
): S3Client =>
  new S3Client({
    endpoint: url,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    // A failed request must fail the test, not be retried into a pass.
    maxAttempts: 1,
    ...overrides,
  });

/** Reads an SDK GetObject body fully. */
export const readBody = async (body: unknown): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
};

/** Expects an SDK call to fail with an S3 error code and HTTP status. */
export const expectS3Error = async (
  promise: Promise<unknown>,
  code: string,
  status: number,
): Promise<S3ServiceException> => {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}, but the request succeeded`);
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(S3ServiceException);
  const s3Error = error as S3ServiceException;
  expect({ code: s3Error.name, status: s3Error.$metadata.httpStatusCode }).toEqual({
    code,
    status,
  });
  return s3Error;
};

/** A raw HTTP exchange. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Whether the server answered `100 Continue`. */
  continued?: boolean;
}

/** Sends bytes as given (header names and order kept) and collects the answer. */
export const sendRaw = (
  url: string,
  options: {
    method: string;
    path: string;
    headers: ReadonlyArray<readonly [string, string]>;
    body?: ReadonlyArray<Uint8Array>;
    /** Destroy the request after writing the body pieces (simulates a client that goes away). */
    abortAfterBody?: boolean;
    /** Send `Expect: 100-continue` and write the body only after `100 Continue`. */
    expectContinue?: boolean;
  },
): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest({
      host: hostname,
      port,
      method: options.method,
      path: options.path,
      headers: [
        ...options.headers.flatMap(([name, value]) => [name, value]),
        ...(options.expectContinue ? ["expect", "100-continue"] : []),
      ],
      setHost: false,
    });
    req.on("error", reject);
    let continued = false;
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          continued,
        }),
      );
      res.on("error", reject);
    });
    const pieces = options.body ?? [];
    if (options.abortAfterBody) {
      req.on("error", () => {});
      // Destroy only once every piece reached the socket, so the server sees a partial body.
      let pending = pieces.length;
      const destroyWhenFlushed = () => {
        if (--pending > 0) return;
        setTimeout(() => {
          req.destroy();
          resolve({ status: 0, headers: {}, body: Buffer.alloc(0) });
        }, 50);
      };
      req.flushHeaders();
      for (const piece of pieces) req.write(piece, destroyWhenFlushed);
      return;
    }
    if (options.expectContinue) {
      req.flushHeaders();
      req.on("continue", () => {
        continued = true;
        for (const piece of pieces) req.write(piece);
        req.end();
      });
      return;
    }
    for (const piece of pieces) req.write(piece);
    req.end();
  });

/** Signs a raw request with the test key at the current time. */
export const signRaw = (
  url: string,
  request: {
    method: string;
    path: string;
    query?: string;
    headers?: ReadonlyArray<readonly [string, string]>;
    payloadHash: string;
    host?: string;
    secretAccessKey?: string;
    region?: string;
  },
) => {
  const host = request.host ?? new URL(url).host;
  return signRequest(
    {
      method: request.method,
      path: request.path,
      query: request.query ?? "",
      headers: [["host", host], ...(request.headers ?? [])],
    },
    {
      credentials: {
        accessKeyId: ACCESS_KEY_ID,
        secretAccessKey: request.secretAccessKey ?? SECRET_ACCESS_KEY,
      },
      region: request.region ?? "us-east-1",
      now: Date.now(),
      payloadHash: request.payloadHash,
      crypto: nodeCryptoProvider,
    },
  );
};

/** Parses `<Code>` and friends out of an S3 error document. */
export const errorFields = (body: Buffer): Record<string, string> => {
  const text = body.toString("utf8");
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1] ?? "";
  return { Code: field("Code"), Message: field("Message"), RequestId: field("RequestId") };
};
