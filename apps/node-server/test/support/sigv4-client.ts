// A minimal, independent SigV4 header signer for raw test requests (node:crypto, not @osp/sigv4),
// so that tests exercise OSP's verifier against a second implementation.
import { createHash, createHmac } from "node:crypto";

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const hmac = (key: Buffer | string, text: string): Buffer =>
  createHmac("sha256", key).update(text, "utf8").digest();
const sha256Hex = (text: string | Buffer): string =>
  createHash("sha256").update(text).digest("hex");

/** RFC 3986 encoding as S3 wants it; "/" kept when `keepSlash`. */
export const s3Encode = (text: string, keepSlash = true): string =>
  Array.from(new TextEncoder().encode(text))
    .map((byte) => {
      const c = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) return c;
      return `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");

const amzDate = (epochMs: number): string =>
  new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/**
 * Signs a request whose `path` and `query` are already encoded as they go on the wire. Returns
 * the headers to send (input headers + x-amz-date, x-amz-content-sha256, Authorization).
 */
export const signRequest = (options: {
  method: string;
  host: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  credentials: TestCredentials;
  region?: string;
  payloadHash?: string;
  now?: number;
}): Record<string, string> => {
  const region = options.region ?? "us-east-1";
  const date = amzDate(options.now ?? Date.now());
  const payloadHash = options.payloadHash ?? "UNSIGNED-PAYLOAD";
  const headers: Record<string, string> = {
    ...options.headers,
    host: options.host,
    "x-amz-date": date,
    "x-amz-content-sha256": payloadHash,
  };
  const signed = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .filter(
      (name) =>
        name === "host" ||
        name.startsWith("x-amz-") ||
        name === "content-type" ||
        name === "content-md5",
    )
    .sort();
  const lowered = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const canonicalHeaders = signed
    .map((name) => `${name}:${String(lowered[name]).trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalQuery = (options.query ?? "")
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const [name, value = ""] = pair.split("=") as [string, string?];
      return [
        s3Encode(decodeURIComponent(name), false),
        s3Encode(decodeURIComponent(value), false),
      ] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalUri = options.path
    .split("/")
    .map((segment) => s3Encode(decodeURIComponent(segment), false))
    .join("/");
  const canonicalRequest = [
    options.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signed.join(";"),
    payloadHash,
  ].join("\n");
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256Hex(canonicalRequest)].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${options.credentials.secretAccessKey}`, date.slice(0, 8)), region), "s3"),
    "aws4_request",
  );
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${options.credentials.accessKeyId}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`,
  };
};

/** The `Signature=` value of an Authorization header. */
export const signatureOf = (authorization: string): string =>
  /Signature=([0-9a-f]+)/.exec(authorization)?.[1] ?? "";
