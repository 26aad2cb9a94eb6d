// The server: node:http in front of the operations. Every request is authenticated with
// SigV4 before anything else; its body is verified as it streams (see body.ts).
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import {
  createSigningKeyCache,
  parseAuthorization,
  verifyRequest,
  type ParsedAuthorization,
  type PayloadMode,
  type RawRequest,
  type VerifiedRequest,
} from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import type { BucketContext, ObjectContext, RequestContext, ServerState } from "./context.ts";
import { S3Error, errorDocument, toS3Error } from "./errors.ts";
import { assertBucketName } from "./names.ts";
import {
  createBucket,
  deleteBucket,
  getBucketLocation,
  getBucketVersioning,
  headBucket,
  listBuckets,
  listObjects,
} from "./operations/bucket.ts";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from "./operations/multipart.ts";
import {
  copyObject,
  deleteObject,
  deleteObjects,
  getObject,
  putObject,
} from "./operations/object.ts";
import {
  headerMap,
  parseQuery,
  resolveOperation,
  resolveTarget,
  type S3Operation,
} from "./request.ts";
import { openDirectoryPersistence } from "./storage/directory.ts";
import { createMemoryPersistence } from "./storage/memory.ts";
import { Store } from "./storage/store.ts";

/** An access key pair local-s3 accepts. @public */
export interface LocalS3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Which S3 implementation to behave like. @public */
export type LocalS3Profile = "aws" | "ceph16";

/** What `onRequest` reports once a response is finished (or the connection dropped). @public */
export interface LocalS3RequestEvent {
  readonly method: string;
  /** The raw (percent-encoded) request path. */
  readonly path: string;
  /** The raw query string, without "?". */
  readonly query: string;
  readonly operation: S3Operation;
  /** HTTP status sent; 0 when the client went away before any response. */
  readonly status: number;
  /** True when the response did not complete (client gone, or cut mid-body). */
  readonly aborted: boolean;
  /** Present once the signature was parsed (also when it then failed to verify). */
  readonly accessKeyId?: string;
  /** How the payload was protected (from `x-amz-content-sha256`), once parsed. */
  readonly payloadMode?: PayloadMode;
  readonly requestId: string;
  readonly bucket?: string;
  readonly key?: string;
  /** S3 error code of a failed request. */
  readonly errorCode?: string;
  readonly durationMs: number;
}

/** Options of {@link createLocalS3}. @public */
export interface LocalS3Options {
  /** The key pairs requests may be signed with (at least one). */
  readonly credentials: ReadonlyArray<LocalS3Credentials>;
  /** `"memory"` (default) or a directory that survives restarts. */
  readonly storage?: "memory" | { readonly directory: string };
  /** The region of this endpoint; signatures scoped to another region are refused. Default us-east-1. */
  readonly region?: string;
  /** Address to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number;
  /**
   * `"aws"` (default) accepts every SigV4 payload form. `"ceph16"` behaves like Ceph RGW 16:
   * trailer payloads (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `…-PAYLOAD-TRAILER`) get 400
   * XAmzContentSHA256Mismatch, a chunked upload without Content-Length 411
   * MissingContentLength, and any region is accepted.
   */
  readonly profile?: LocalS3Profile;
  /** Buckets to create at start (kept if they exist). */
  readonly buckets?: ReadonlyArray<string>;
  /** Called once per request after its response. Exceptions it throws are ignored. */
  readonly onRequest?: (event: LocalS3RequestEvent) => void;
  /** Host names under which `<bucket>.<domain>` selects virtual-host addressing. Default ["localhost"]. */
  readonly virtualHostDomains?: ReadonlyArray<string>;
  /** Smallest part (but the last) CompleteMultipartUpload accepts. Default 5 MiB, as S3. */
  readonly minPartSizeBytes?: number;
  /** Largest PutObject/UploadPart body. Default 5 GiB, as S3. */
  readonly maxObjectSizeBytes?: number;
  /** Clock, epoch milliseconds (signature skew, Last-Modified). Default Date.now. */
  readonly now?: () => number;
  /**
   * Add `CanonicalRequest` and `StringToSign` to SignatureDoesNotMatch errors, as S3 does, to
   * debug a client's signing. Off by default: they echo request contents into error bodies.
   */
  readonly debug?: boolean;
}

/** A running local S3 server. @public */
export interface LocalS3 {
  /** Base URL, e.g. `http://127.0.0.1:40123`: the endpoint for path-style clients. */
  readonly url: string;
  readonly port: number;
  /** Number of requests received so far. */
  readonly requests: number;
  /** Creates a bucket (no-op if it exists). @throws S3Error InvalidBucketName */
  createBucket(name: string): void;
  /** Stops listening, finishes in-flight requests (2 s at most) and flushes storage. */
  close(): Promise<void>;
}

const DEFAULT_MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
const DEFAULT_MAX_OBJECT_SIZE_BYTES = 5 * 1024 * 1024 * 1024;
const CLOSE_GRACE_MS = 2000;
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

/**
 * Discards what is left of a request body. True when it ended within the bounds; otherwise the
 * rest keeps being discarded and the connection must close after the response.
 */
const drainRequest = (req: IncomingMessage): Promise<boolean> => {
  if (req.complete) return Promise.resolve(true);
  if (req.socket == null || req.socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let drainedBytes = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      drainedBytes += chunk.length;
      if (drainedBytes > DRAIN_MAX_BYTES) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(req.complete);
    const timer = setTimeout(() => finish(false), DRAIN_MAX_MS);
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("close", onClose);
    req.resume();
  });
};

const validateOptions = (options: LocalS3Options): void => {
  if (!Array.isArray(options.credentials) || options.credentials.length === 0)
    throw new TypeError("createLocalS3: credentials must list at least one key pair");
  for (const pair of options.credentials) {
    if (typeof pair?.accessKeyId !== "string" || pair.accessKeyId === "")
      throw new TypeError("createLocalS3: every credential needs a non-empty accessKeyId");
    if (typeof pair.secretAccessKey !== "string" || pair.secretAccessKey === "")
      throw new TypeError(
        `createLocalS3: credential ${pair.accessKeyId} needs a non-empty secretAccessKey`,
      );
  }
  const { storage, profile, port } = options;
  if (storage != null && storage !== "memory" && typeof storage?.directory !== "string")
    throw new TypeError('createLocalS3: storage must be "memory" or { directory: string }');
  if (profile != null && profile !== "aws" && profile !== "ceph16")
    throw new TypeError('createLocalS3: profile must be "aws" or "ceph16"');
  if (port != null && !(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new TypeError("createLocalS3: port must be an integer from 0 to 65535");
};

const formatUrl = (host: string, port: number): string => {
  const connectable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${isIP(connectable) === 6 ? `[${connectable}]` : connectable}:${port}`;
};

const rawHeaderPairs = (req: IncomingMessage): Array<[string, string]> => {
  const pairs: Array<[string, string]> = [];
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2)
    pairs.push([req.rawHeaders[index]!, req.rawHeaders[index + 1]!]);
  return pairs;
};

/** Splits the request target; an absolute-form target keeps only its path and query. */
const splitTarget = (url: string): { rawPath: string; rawQuery: string } => {
  let target = url;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (absolute != null) target = target.slice(absolute[0].length) || "/";
  const question = target.indexOf("?");
  return question < 0
    ? { rawPath: target, rawQuery: "" }
    : { rawPath: target.slice(0, question), rawQuery: target.slice(question + 1) };
};

const dispatch = (context: RequestContext): Promise<void> => {
  const bucketContext = context as BucketContext;
  const objectContext = context as ObjectContext;
  switch (context.operation) {
    case "ListBuckets":
      return listBuckets(context);
    case "CreateBucket":
      return createBucket(bucketContext);
    case "HeadBucket":
      return headBucket(bucketContext);
    case "DeleteBucket":
      return deleteBucket(bucketContext);
    case "GetBucketLocation":
      return getBucketLocation(bucketContext);
    case "GetBucketVersioning":
      return getBucketVersioning(bucketContext);
    case "ListObjects":
      return listObjects(bucketContext, 1);
    case "ListObjectsV2":
      return listObjects(bucketContext, 2);
    case "ListMultipartUploads":
      return listMultipartUploads(bucketContext);
    case "DeleteObjects":
      return deleteObjects(bucketContext);
    case "PutObject":
      return putObject(objectContext);
    case "GetObject":
    case "HeadObject":
      return getObject(objectContext);
    case "DeleteObject":
      return deleteObject(objectContext);
    case "CopyObject":
      return copyObject(objectContext);
    case "CreateMultipartUpload":
      return createMultipartUpload(objectContext);
    case "UploadPart":
      return uploadPart(objectContext);
    case "UploadPartCopy":
      return uploadPartCopy(objectContext);
    case "CompleteMultipartUpload":
      return completeMultipartUpload(objectContext);
    case "AbortMultipartUpload":
      return abortMultipartUpload(objectContext);
    case "ListParts":
      return listParts(objectContext);
    case "NotImplemented":
      throw new S3Error(
        "NotImplemented",
        `local-s3 does not implement ${context.method} on this resource with these parameters.`,
      );
  }
};

/**
 * Starts an embedded S3 server that verifies SigV4 (header and presigned, aws-chunked signed
 * and trailer payloads) and stores objects in memory or in a directory.
 * @public
 */
export const createLocalS3 = async (options: LocalS3Options): Promise<LocalS3> => {
  validateOptions(options);
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? "us-east-1";
  const profile = options.profile ?? "aws";
  const now = options.now ?? Date.now;
  const secrets = new Map(
    options.credentials.map((pair) => [pair.accessKeyId, pair.secretAccessKey]),
  );
  const virtualHostDomains = (
    options.virtualHostDomains ?? [
      "localhost",
      ...(isIP(host) === 0 && host !== "localhost" ? [host] : []),
    ]
  ).map((domain) => domain.toLowerCase());
  const storage = options.storage ?? "memory";
  const persistence =
    storage === "memory"
      ? createMemoryPersistence()
      : await openDirectoryPersistence(storage.directory);
  const store = await Store.open(persistence);
  const state: ServerState = {
    store,
    region,
    profile,
    now,
    minPartSizeBytes: options.minPartSizeBytes ?? DEFAULT_MIN_PART_SIZE_BYTES,
    maxObjectSizeBytes: options.maxObjectSizeBytes ?? DEFAULT_MAX_OBJECT_SIZE_BYTES,
    ownerId: createHash("sha256").update("local-s3").digest("hex"),
  };
  const createBucketNow = (name: string): void => {
    assertBucketName(name);
    store.createBucket(name, now());
  };
  for (const name of options.buckets ?? []) createBucketNow(name);

  const signingKeyCache = createSigningKeyCache({ crypto: nodeCryptoProvider });
  let requestCount = 0;

  const authenticate = async (
    request: RawRequest,
    parsed: ParsedAuthorization | undefined,
  ): Promise<VerifiedRequest> => {
    if (parsed == null)
      throw new S3Error(
        "AccessDenied",
        "Anonymous access is not allowed: sign requests with a configured access key.",
      );
    return verifyRequest(request, {
      lookupSecret: (accessKeyId) => secrets.get(accessKeyId),
      now: now(),
      // Ceph RGW accepts any region in the credential scope.
      ...(profile === "aws" ? { region } : {}),
      crypto: nodeCryptoProvider,
      signingKeyCache,
      parsed,
      debug: options.debug === true,
    });
  };

  const enforceProfile = (
    verified: VerifiedRequest,
    headers: ReadonlyMap<string, string>,
    method: string,
  ): void => {
    if (profile !== "ceph16") return;
    if (
      verified.payloadMode === "streaming-signed-trailer" ||
      verified.payloadMode === "streaming-unsigned-trailer"
    ) {
      throw new S3Error(
        "XAmzContentSHA256Mismatch",
        "The x-amz-content-sha256 value is not supported by this server (trailer payloads).",
      );
    }
    if (
      (method === "PUT" || method === "POST") &&
      headers.has("transfer-encoding") &&
      !headers.has("content-length")
    )
      throw new S3Error("MissingContentLength");
  };

  const respondWithError = async (
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    resource: string,
    requestId: string,
    error: S3Error,
    bodyNotRequested: boolean,
  ): Promise<void> => {
    if (res.headersSent || res.destroyed || req.socket == null || req.socket.destroyed) {
      // Failure mid-body, or the client is gone: cut the connection rather than end a
      // truncated 200 cleanly.
      res.destroy();
      return;
    }
    // Clients write the whole body before they read: answering early and closing makes them
    // see EPIPE instead of the error. Read the rest first, within bounds. A client still
    // waiting for 100 Continue sends no body: answer now and close.
    if (bodyNotRequested) {
      if (!req.complete) res.setHeader("connection", "close");
    } else if (!(await drainRequest(req))) res.setHeader("connection", "close");
    if (res.destroyed) return;
    const headers = { ...error.responseHeaders };
    if (method === "HEAD" || error.status === 304) {
      res.writeHead(error.status, headers);
      res.end();
      return;
    }
    const body = Buffer.from(errorDocument(error, resource, requestId), "utf8");
    res.writeHead(error.status, {
      ...headers,
      "content-type": "application/xml",
      "content-length": String(body.length),
    });
    res.end(body);
  };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    expectsContinue: boolean,
  ): Promise<void> => {
    // With "Expect: 100-continue" the body only comes after we say so.
    let awaitingContinue = expectsContinue;
    const continueBody = () => {
      if (!awaitingContinue) return;
      awaitingContinue = false;
      res.writeContinue();
    };
    requestCount++;
    const startedMs = performance.now();
    const requestId = randomBytes(8).toString("hex").toUpperCase();
    res.setHeader("x-amz-request-id", requestId);
    res.setHeader("x-amz-id-2", randomBytes(24).toString("base64"));
    res.setHeader("server", "LocalS3");
    const method = (req.method ?? "GET").toUpperCase();
    const { rawPath, rawQuery } = splitTarget(req.url ?? "/");
    const event: {
      -readonly [K in keyof LocalS3RequestEvent]?: LocalS3RequestEvent[K];
    } = { method, path: rawPath, query: rawQuery, operation: "NotImplemented", requestId };
    res.once("close", () => {
      try {
        options.onRequest?.({
          ...(event as Omit<LocalS3RequestEvent, "status" | "aborted" | "durationMs">),
          status: res.headersSent ? res.statusCode : 0,
          aborted: !res.writableFinished,
          durationMs: performance.now() - startedMs,
        });
      } catch {
        // A listener's failure is not the client's problem.
      }
    });
    try {
      const rawHeaders = rawHeaderPairs(req);
      const headers = headerMap(rawHeaders);
      const target = resolveTarget(rawPath, headers.get("host"), virtualHostDomains);
      const query = parseQuery(rawQuery);
      const operation = resolveOperation(method, target, query, headers.has("x-amz-copy-source"));
      Object.assign(event, {
        operation,
        ...(target.bucket != null ? { bucket: target.bucket } : {}),
        ...(target.key != null ? { key: target.key } : {}),
      });
      const request: RawRequest = { method, path: rawPath, query: rawQuery, headers: rawHeaders };
      // Throws SigV4Error (malformed header or query) before any lookup.
      const parsed = parseAuthorization(request);
      if (parsed != null) {
        event.accessKeyId = parsed.accessKeyId;
        event.payloadMode = parsed.payloadMode;
      }
      const verified = await authenticate(request, parsed);
      enforceProfile(verified, headers, method);
      await dispatch({
        req,
        res,
        requestId,
        method,
        headers,
        query,
        target,
        operation,
        verified,
        server: state,
        continueBody,
      });
    } catch (thrown) {
      const error = toS3Error(thrown);
      event.errorCode = error.code;
      try {
        await respondWithError(req, res, method, rawPath, requestId, error, awaitingContinue);
      } catch {
        res.destroy();
      }
    }
  };

  const server = createServer(
    // Large uploads may take long: no overall request deadline; idle keep-alive sockets are
    // kept longer than clients' pools keep them, so a client never reuses a closing socket.
    { requestTimeout: 0, keepAliveTimeout: 65_000 },
    (req, res) => void handle(req, res, false),
  );
  // Authenticate (and check the target) before inviting the body of an Expect: 100-continue.
  server.on("checkContinue", (req, res) => void handle(req, res, true));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address != null ? address.port : (options.port ?? 0);

  let closing: Promise<void> | undefined;
  return {
    url: formatUrl(host, port),
    port,
    get requests() {
      return requestCount;
    },
    createBucket: createBucketNow,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          server.closeIdleConnections();
        });
        await store.flush();
      })();
      return closing;
    },
  };
};
