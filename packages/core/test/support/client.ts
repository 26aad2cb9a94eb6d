// Signs client requests the way AWS SDKs do, with @smithy/signature-v4 (never with @osp/sigv4),
// and turns them into ProxyRequests. Streaming bodies are framed by the independent test codec.

import { createHash } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { ProxyRequest } from "../../src/index.ts";
import {
  checksumBase64,
  encodeSignedChunks,
  encodeUnsignedChunks,
  signingKey,
} from "./aws-chunked.ts";
import { parseAuthorizationHeader, s3CanonicalPath } from "./independent-verifier.ts";

export type ClientPayload =
  | "sha256"
  | "unsigned"
  | "streaming-signed"
  | "streaming-signed-trailer"
  | "streaming-unsigned-trailer";

export interface ClientCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface ClientRequestOptions {
  readonly method: string;
  /** Raw wire path. */
  readonly path: string;
  /** Raw wire query. */
  readonly query?: string;
  /** Headers the client signs. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Headers added after signing (not covered by the signature). */
  readonly unsignedHeaders?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  readonly credentials?: ClientCredentials;
  readonly region?: string;
  /** Signing time. */
  readonly signingDate: Date;
  readonly host?: string;
  readonly payload?: ClientPayload;
  readonly chunkBytes?: number;
  /** Body pieces handed to the proxy (exercises frames split across reads). */
  readonly pieceBytes?: number;
  /** Changes the encoded body after signing (tampering tests). */
  readonly tamper?: (frames: Buffer[]) => void;
  /** Omit x-amz-decoded-content-length on streaming bodies. */
  readonly omitDecodedLength?: boolean;
  readonly remoteAddress?: string;
  readonly signal?: AbortSignal;
  readonly sendContinue?: () => void;
}

const s3Encode = (text: string): string =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );

export const decodedQuery = (rawQuery: string): Record<string, string | string[]> => {
  const query: Record<string, string | string[]> = {};
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const equals = part.indexOf("=");
    const name = decodeURIComponent(equals === -1 ? part : part.slice(0, equals));
    const value = equals === -1 ? "" : decodeURIComponent(part.slice(equals + 1));
    const existing = query[name];
    query[name] =
      existing == null ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
};

const encodeQuery = (query: Record<string, string | string[] | null | undefined>): string =>
  Object.entries(query)
    .flatMap(([name, value]) =>
      Array.isArray(value) ? value.map((item) => [name, item]) : [[name, value ?? ""]],
    )
    .map(([name, value]) => `${s3Encode(name!)}=${s3Encode(value!)}`)
    .join("&");

export async function* bodyPieces(data: Buffer, pieceBytes = 1000): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += pieceBytes)
    yield Uint8Array.from(data.subarray(offset, offset + pieceBytes));
}

const signer = (credentials: ClientCredentials, region: string) =>
  new SignatureV4({
    credentials,
    region,
    service: "s3",
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: false,
    applyChecksum: false,
  });

export const DEFAULT_CLIENT: ClientCredentials = {
  accessKeyId: "CLIENTKEY",
  secretAccessKey: "client/secret+key",
};

/** A header-signed client request. */
export const signedClientRequest = async (
  options: ClientRequestOptions,
): Promise<ProxyRequest & { wireBody: Buffer | null }> => {
  const credentials = options.credentials ?? DEFAULT_CLIENT;
  const region = options.region ?? "us-east-1";
  const host = options.host ?? "proxy.test:6190";
  const payload = options.payload ?? "sha256";
  const data = options.body;
  const headers: Record<string, string> = { host };
  for (const [name, value] of options.headers ?? []) headers[name.toLowerCase()] = value;
  let contentSha256: string;
  switch (payload) {
    case "sha256":
      contentSha256 = createHash("sha256")
        .update(data ?? Buffer.alloc(0))
        .digest("hex");
      break;
    case "unsigned":
      contentSha256 = "UNSIGNED-PAYLOAD";
      break;
    case "streaming-signed":
      contentSha256 = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
      break;
    case "streaming-signed-trailer":
      contentSha256 = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
      break;
    case "streaming-unsigned-trailer":
      contentSha256 = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
      break;
  }
  headers["x-amz-content-sha256"] = contentSha256;
  const streaming = payload.startsWith("streaming");
  const trailer = payload.endsWith("trailer");
  if (streaming) {
    headers["content-encoding"] = "aws-chunked";
    if (options.omitDecodedLength !== true)
      headers["x-amz-decoded-content-length"] = String(data?.length ?? 0);
    if (trailer) {
      headers["x-amz-trailer"] = "x-amz-checksum-crc32";
      headers["x-amz-sdk-checksum-algorithm"] = "CRC32";
    }
  }
  if (options.credentials?.sessionToken != null)
    headers["x-amz-security-token"] = options.credentials.sessionToken;
  const queryString = options.query ?? "";
  const rawPath = options.path;
  const request = new HttpRequest({
    method: options.method,
    protocol: "http:",
    hostname: host,
    path: s3CanonicalPath(rawPath),
    query: decodedQuery(queryString),
    headers,
  });
  const signed = await signer(credentials, region).sign(request, {
    signingDate: options.signingDate,
  });
  const authorization = String(signed.headers["authorization"]);
  let wireBody: Buffer | null = data ?? null;
  if (streaming) {
    const parsed = parseAuthorizationHeader(authorization);
    const amzDate = String(signed.headers["x-amz-date"]);
    const trailers = trailer
      ? ([["x-amz-checksum-crc32", checksumBase64("crc32", data ?? Buffer.alloc(0))]] as const)
      : undefined;
    wireBody =
      payload === "streaming-unsigned-trailer"
        ? encodeUnsignedChunks(data ?? Buffer.alloc(0), trailers!, options.chunkBytes)
        : encodeSignedChunks(
            data ?? Buffer.alloc(0),
            {
              key: signingKey(credentials.secretAccessKey, parsed.date, region),
              amzDate,
              scope: `${parsed.date}/${region}/s3/aws4_request`,
              seed: parsed.signature,
            },
            {
              ...(options.chunkBytes != null && { chunkBytes: options.chunkBytes }),
              ...(trailers != null && { trailers }),
              ...(options.tamper != null && { tamper: options.tamper }),
            },
          );
  }
  const wireHeaders: Array<[string, string]> = Object.entries(signed.headers).map(
    ([name, value]) => [name, String(value)],
  );
  if (wireBody != null) wireHeaders.push(["content-length", String(wireBody.length)]);
  for (const [name, value] of options.unsignedHeaders ?? []) wireHeaders.push([name, value]);
  return {
    method: options.method,
    path: rawPath,
    query: queryString,
    headers: wireHeaders,
    body: wireBody == null ? null : bodyPieces(wireBody, options.pieceBytes),
    wireBody,
    ...(options.remoteAddress != null && { remoteAddress: options.remoteAddress }),
    ...(options.signal != null && { signal: options.signal }),
    ...(options.sendContinue != null && { sendContinue: options.sendContinue }),
  };
};

/** A presigned client request (query authentication), as `getSignedUrl` makes it. */
export const presignedClientRequest = async (
  options: ClientRequestOptions & {
    expiresInSeconds: number;
    signedHeaders?: Record<string, string>;
  },
): Promise<ProxyRequest> => {
  const credentials = options.credentials ?? DEFAULT_CLIENT;
  const region = options.region ?? "us-east-1";
  const host = options.host ?? "proxy.test:6190";
  const request = new HttpRequest({
    method: options.method,
    protocol: "http:",
    hostname: host,
    path: s3CanonicalPath(options.path),
    query: decodedQuery(options.query ?? ""),
    // As @aws-sdk/s3-request-presigner: the payload is UNSIGNED-PAYLOAD, hoisted into the query.
    headers: { host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...options.signedHeaders },
  });
  const presigned = await signer(credentials, region).presign(request, {
    signingDate: options.signingDate,
    expiresIn: options.expiresInSeconds,
  });
  const headers: Array<[string, string]> = Object.entries(presigned.headers).map(
    ([name, value]) => [name, String(value)],
  );
  if (options.body != null) headers.push(["content-length", String(options.body.length)]);
  for (const [name, value] of options.unsignedHeaders ?? []) headers.push([name, value]);
  return {
    method: options.method,
    path: options.path,
    query: encodeQuery(presigned.query as Record<string, string>),
    headers,
    body: options.body == null ? null : bodyPieces(options.body, options.pieceBytes),
    ...(options.signal != null && { signal: options.signal }),
  };
};
