// The typed per-request context: each phase reads what earlier phases decided and adds its own
// part. Fields become present in phase order; a phase never reads a later phase's field.

import type { ChunkSigningContext, Credentials, PayloadMode, RawRequest } from "@osp/sigv4";
import type { LightAbortSignal } from "./abort.ts";
import type { BucketConfig } from "./config.ts";
import type { OspError } from "./errors.ts";
import type { QueryParam } from "./http.ts";
import type { ProxyRequest } from "./ports.ts";

/** How the client addressed the bucket. @public */
export type FrontAddressing = "path" | "virtual";

/** What the parse phase found the request to address. @public */
export type RequestTarget =
  | { readonly kind: "service"; readonly addressing: FrontAddressing }
  | {
      readonly kind: "bucket";
      readonly addressing: FrontAddressing;
      /** The bucket name the client used (decoded). */
      readonly bucket: string;
      /**
       * The raw (still percent-encoded) path after the bucket: `""` for `/bucket`, `"/"` for
       * `/bucket/`, `"/a%2Fb"` for `/bucket/a%2Fb`. Forwarded byte for byte.
       */
      readonly rawKeyPath: string;
      /** The decoded object key; absent for bucket-level requests. */
      readonly key?: string;
    };

/** Who sent the request, as far as authentication established. @public */
export interface ClientIdentity {
  /** The client's access key id; `""` for an anonymous request under `skipSignatureValidation`. */
  readonly accessKeyId: string;
  /** False only under `skipSignatureValidation`. */
  readonly verified: boolean;
  /** Presigned URL (query) rather than an `Authorization` header. */
  readonly presigned: boolean;
  /** The literal payload hash the client signed (or sent) and how the body is framed. */
  readonly payloadHash: string;
  readonly payloadMode: PayloadMode;
  /** For signed aws-chunked bodies: what the chunk signatures chain from. */
  readonly chunkSigning?: ChunkSigningContext;
  /** Lower-case header names the client signed (never stripped on the way upstream). */
  readonly signedHeaders: ReadonlyArray<string>;
}

/** The credentials used towards the backend. @public */
export type BackendCredentials =
  | { readonly kind: "hmac"; readonly credentials: Credentials }
  | { readonly kind: "bearer"; readonly apiKey: string };

/** The copy source of CopyObject/UploadPartCopy, after authorization. @public */
export interface CopySource {
  readonly bucket: BucketConfig;
  /** Decoded key of the source object. */
  readonly key: string;
}

/** The per-request context. @public */
export interface RequestContext {
  readonly requestId: string;
  readonly request: ProxyRequest;
  /** Clock reading when the request arrived, epoch ms. */
  readonly startedAt: number;
  /** The request as the client signed it (raw path, raw query, header list). */
  readonly raw: RawRequest;
  /** Query parameters in wire order. */
  readonly query: ReadonlyArray<QueryParam>;
  readonly target: RequestTarget;
  /** S3 operation name. */
  readonly operation: string;
  identity?: ClientIdentity;
  bucket?: BucketConfig;
  copySource?: CopySource;
  backend?: BackendCredentials;
  /** Client body bytes read so far. */
  bytesIn: number;
  /** Response body bytes sent so far. */
  bytesOut: number;
  /** Aborts the upstream request (client gone, body check failed). */
  readonly upstreamAbort: LightAbortSignal;
  /** Set when the proxy rejected the client's body while streaming it upstream. */
  bodyError?: OspError;
}
