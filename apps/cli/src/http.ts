// A small HTTP client on node:http(s): exact headers (a signed Host must go out as signed, which
// fetch does not allow), per-request TLS settings (`verify: false`, an extra CA) and a deadline.
import { request as httpRequestRaw, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequestRaw } from "node:https";

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  readonly method: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array | string;
  /** Abort after this long. */
  readonly timeoutMs: number;
  /** Extra trusted CAs (PEM) for HTTPS, added to Node's roots. */
  readonly ca?: string | ReadonlyArray<string>;
  /** `false` accepts any certificate (`verify: false` in the config). Default true. */
  readonly rejectUnauthorized?: boolean;
}

/** A response, body read whole (the callers only read small answers). */
export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A request that did not produce a response: a network error or the deadline. */
export class HttpError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HttpError";
    this.code = code;
  }
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Sends one request and reads the answer; rejects with {@link HttpError} on a network error or timeout. */
export const httpRequest = (url: string, options: HttpRequestOptions): Promise<HttpResult> =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequestRaw : httpRequestRaw;
    const headers: Record<string, string> = {};
    for (const [name, value] of options.headers) headers[name] = value;
    const body = options.body;
    if (
      body != null &&
      !Object.keys(headers).some((name) => name.toLowerCase() === "content-length")
    ) {
      headers["content-length"] = String(
        typeof body === "string" ? Buffer.byteLength(body) : body.byteLength,
      );
    }
    let settled = false;
    const fail = (error: HttpError): void => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const req = send(
      target,
      {
        method: options.method,
        headers,
        ...(target.protocol === "https:"
          ? {
              ...(options.ca != null ? { ca: options.ca as string | string[] } : {}),
              rejectUnauthorized: options.rejectUnauthorized ?? true,
            }
          : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          });
        });
        res.on("error", (error: NodeJS.ErrnoException) =>
          fail(new HttpError(error.code ?? "ERR_RESPONSE", error.message)),
        );
      },
    );
    const timer = setTimeout(() => {
      fail(new HttpError("ETIMEDOUT", `no answer within ${options.timeoutMs} ms`));
      req.destroy();
    }, options.timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(new HttpError(error.code ?? "ERR_REQUEST", error.message, { cause: error }));
    });
    req.end(body);
  });
