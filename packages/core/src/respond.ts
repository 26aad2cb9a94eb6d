// Responses the proxy makes itself: S3 error documents and the ListBuckets answer.

import { toS3ErrorXml, type OspError } from "./errors.ts";
import type { HeaderList, ProxyResponse } from "./ports.ts";
import { singlePiece } from "./body/streams.ts";

const encoder = new TextEncoder();

/** Context of a proxy-made response. @internal */
export interface ResponseContext {
  readonly requestId: string;
  readonly method: string;
  readonly serverName: string;
  /** The request path, for `<Resource>`. */
  readonly resource: string;
}

/** An XML response; no body for HEAD (the headers still describe it). @internal */
export const xmlResponse = (
  status: number,
  xml: string,
  context: ResponseContext,
  extra: HeaderList = [],
): ProxyResponse => {
  const bytes = encoder.encode(xml);
  const isHead = context.method.toUpperCase() === "HEAD";
  return {
    status,
    headers: [
      ["content-type", "application/xml"],
      ["content-length", String(bytes.byteLength)],
      ["x-amz-request-id", context.requestId],
      ["server", context.serverName],
      ...extra,
    ],
    body: isHead ? null : singlePiece(bytes),
  };
};

/**
 * The S3 error response for `error`: `Code`, a non-empty `Message`, `Resource`, `RequestId`;
 * `x-amz-error-code` too, so a HEAD (which has no body) still says what went wrong.
 * @public
 */
export const errorResponse = (error: OspError, context: ResponseContext): ProxyResponse =>
  xmlResponse(
    error.status,
    toS3ErrorXml(error, { requestId: context.requestId, resource: context.resource }),
    context,
    [["x-amz-error-code", error.code]],
  );
