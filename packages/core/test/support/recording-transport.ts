// A transport for the adversarial unit tests: it reads every upstream body to its end, as a
// backend would, records what the proxy sent, and checks its signature independently.

import type { BucketConfigInput, Transport, UpstreamRequest } from "../../src/index.ts";
import { verifyCapturedRequest } from "./independent-verifier.ts";

/** The backend secret of the buckets {@link backend} makes (access key `BACKENDKEY`). */
export const BACKEND_SECRET = "backend/secret+key";

/** A path-style loopback bucket signed with the static pair BACKENDKEY / {@link BACKEND_SECRET}. */
export const backend = (extra: Partial<BucketConfigInput> = {}): BucketConfigInput => ({
  host: "127.0.0.1",
  port: 9000,
  tls: false,
  addressingStyle: "path",
  accessKey: "BACKENDKEY",
  secretKey: BACKEND_SECRET,
  ...extra,
});

/** One upstream request and the body the proxy streamed for it. */
export interface Forwarded {
  readonly request: UpstreamRequest;
  body: Buffer;
  /** The upstream body was read to its end without the proxy failing it. */
  completed: boolean;
}

/** A transport that reads every body to its end and records everything; answers `upstreamStatus()`. */
export const recordingTransport = (upstreamStatus: () => number = () => 200) => {
  const sent: Forwarded[] = [];
  const transport: Transport = {
    async send(request) {
      const record: Forwarded = { request, body: Buffer.alloc(0), completed: request.body == null };
      sent.push(record);
      if (request.body != null) {
        const parts: Buffer[] = [];
        try {
          for await (const piece of request.body) parts.push(Buffer.from(piece));
          record.completed = true;
        } catch {
          // A real transport rejects when the body it streams fails.
          throw new Error("the upstream body failed");
        } finally {
          record.body = Buffer.concat(parts);
        }
      }
      return { status: upstreamStatus(), headers: [["content-length", "0"]], body: null };
    },
  };
  return { transport, sent };
};

/** The values of an upstream header, by lower-case name. */
export const upstreamHeader = (forwarded: Forwarded, name: string): string[] =>
  forwarded.request.headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);

/** Checks the upstream request's SigV4 signature with smithy (never with our own verifier). */
export const verifyUpstream = (forwarded: Forwarded) =>
  verifyCapturedRequest(
    {
      method: forwarded.request.method,
      url: forwarded.request.pathAndQuery,
      rawHeaders: forwarded.request.headers.flat(),
    },
    (accessKeyId) => (accessKeyId === "BACKENDKEY" ? BACKEND_SECRET : undefined),
  );
