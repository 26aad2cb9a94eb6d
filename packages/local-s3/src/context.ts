// What every operation handler receives, and the few ways it answers.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { VerifiedRequest } from "@osp/sigv4";
import { planBody, receiveBody, type BodyDigest } from "./body.ts";
import { S3Error } from "./errors.ts";
import type { RequestTarget, S3Operation } from "./request.ts";
import type { Store } from "./storage/store.ts";
import type { BlobWriter } from "./storage/types.ts";

/** Server-wide settings and state shared by all requests. */
export interface ServerState {
  readonly store: Store;
  readonly region: string;
  readonly profile: "aws" | "ceph16";
  readonly now: () => number;
  readonly minPartSizeBytes: number;
  readonly maxObjectSizeBytes: number;
  /** Owner shown in listings: there is one, whoever signs. */
  readonly ownerId: string;
}

/** One authenticated request on its way to an operation. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly method: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly query: ReadonlyMap<string, string>;
  readonly target: RequestTarget;
  readonly operation: S3Operation;
  readonly verified: VerifiedRequest;
  readonly server: ServerState;
  /**
   * Sends `100 Continue` if the client asked for it and it was not sent yet. Called when the
   * body is first read, so a request refused before that never makes the client send its body.
   */
  readonly continueBody: () => void;
}

/** A context narrowed to requests that name a bucket. */
export type BucketContext = RequestContext & { readonly target: { readonly bucket: string } };

/** A context narrowed to requests that name a bucket and a key. */
export type ObjectContext = RequestContext & {
  readonly target: { readonly bucket: string; readonly key: string };
};

/** Largest XML request document accepted (CompleteMultipartUpload of 10 000 parts fits). */
export const MAX_XML_BODY_BYTES = 4 * 1024 * 1024;

/** S3's one-second Last-Modified resolution. */
export const wholeSecond = (epochMs: number): number => Math.floor(epochMs / 1000) * 1000;

/** RFC 9110 date, as in Last-Modified. */
export const httpDate = (epochMs: number): string => new Date(epochMs).toUTCString();

/** ISO 8601 with milliseconds, as in S3 XML. */
export const isoDate = (epochMs: number): string => new Date(epochMs).toISOString();

/** Answers with an XML document. */
export const sendXml = (
  context: RequestContext,
  status: number,
  document: string,
  headers: Record<string, string> = {},
): void => {
  const body = Buffer.from(document, "utf8");
  context.res.writeHead(status, {
    ...headers,
    "content-type": "application/xml",
    "content-length": String(body.length),
  });
  context.res.end(context.method === "HEAD" ? undefined : body);
};

/** Answers without a body. */
export const sendEmpty = (
  context: RequestContext,
  status: number,
  headers: Record<string, string> = {},
): void => {
  context.res.writeHead(
    status,
    status === 204 || status === 304 ? headers : { "content-length": "0", ...headers },
  );
  context.res.end();
};

// Stopping early (a failed check) must not destroy the socket: the error response still has
// to be written, and the rest of the body is drained by the error path.
const requestBody = (context: RequestContext): AsyncIterable<Uint8Array> => {
  context.continueBody();
  return context.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
};

/** Receives a (possibly large) verified body into a blob writer; aborts it on failure. */
export const receiveInto = async (
  context: RequestContext,
  writer: BlobWriter,
): Promise<BodyDigest> => {
  try {
    const plan = planBody(context.verified, context.headers, {
      maxBytes: context.server.maxObjectSizeBytes,
      tooLargeCode: "EntityTooLarge",
    });
    const declared = Number(
      context.headers.get("x-amz-decoded-content-length") ??
        context.headers.get("content-length") ??
        0,
    );
    if (declared > context.server.maxObjectSizeBytes) throw new S3Error("EntityTooLarge");
    return await receiveBody(requestBody(context), plan, (piece) => writer.write(piece));
  } catch (error) {
    await writer.abort();
    throw error;
  }
};

/** Reads and verifies a small body (XML documents, or the empty body of most requests). */
export const readSmallBody = async (context: RequestContext): Promise<Buffer> => {
  const plan = planBody(context.verified, context.headers, {
    maxBytes: MAX_XML_BODY_BYTES,
    tooLargeCode: "MaxMessageLengthExceeded",
  });
  const pieces: Buffer[] = [];
  await receiveBody(requestBody(context), plan, (piece) => {
    pieces.push(Buffer.from(piece));
  });
  return Buffer.concat(pieces);
};

/** Rejects a header value Node could not send back (only Latin-1 without controls is safe). */
export const assertHeaderSafe = (value: string, name: string): string => {
  // oxlint-disable-next-line no-control-regex -- control characters are what we reject
  if (/[^\t\u0020-\u007e\u0080-\u00ff]/.test(value))
    throw new S3Error(
      "InvalidArgument",
      `The value of ${name} contains characters that cannot be sent in an HTTP header.`,
    );
  return value;
};
