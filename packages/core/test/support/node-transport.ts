// A minimal Transport over node:http for the integration tests (the real undici transport is
// another package). Every origin's host name is connected to 127.0.0.1 (a test "DNS"), so
// virtual-host addressing (`bucket.s3.test:port`) works on loopback with its Host header intact.

import { request as httpRequest, type IncomingMessage } from "node:http";
import {
  OspError,
  toAbortSignal,
  type Transport,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../../src/index.ts";

export interface NodeTransport extends Transport {
  /** Every request sent, as given to `send`. */
  readonly sent: UpstreamRequest[];
}

const toHeaderList = (raw: string[]): Array<[string, string]> => {
  const list: Array<[string, string]> = [];
  for (let index = 0; index + 1 < raw.length; index += 2) list.push([raw[index]!, raw[index + 1]!]);
  return list;
};

export const createNodeTransport = (connectHost = "127.0.0.1"): NodeTransport => {
  const sent: UpstreamRequest[] = [];
  const send = (upstream: UpstreamRequest): Promise<UpstreamResponse> => {
    sent.push(upstream);
    const origin = new URL(upstream.origin);
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const flat: string[] = [];
      for (const [name, value] of upstream.headers) {
        const lower = name.toLowerCase();
        if (lower === "content-length" || lower === "expect" || lower === "transfer-encoding")
          continue;
        flat.push(name, value);
      }
      if (upstream.bodyLengthBytes != null)
        flat.push("content-length", String(upstream.bodyLengthBytes));
      let answered = false;
      const outgoing = httpRequest({
        host: connectHost,
        port: Number(origin.port || 80),
        method: upstream.method,
        path: upstream.pathAndQuery,
        headers: flat,
        signal: toAbortSignal(upstream.signal),
      });
      outgoing.on("response", (response: IncomingMessage) => {
        answered = true;
        resolve({
          status: response.statusCode ?? 502,
          headers: toHeaderList(response.rawHeaders),
          body: response,
        });
      });
      outgoing.on("error", (error) => {
        if (answered) return;
        reject(
          upstream.signal.aborted
            ? new OspError("InternalError", { source: "proxy", message: "aborted", cause: error })
            : new OspError("ServiceUnavailable", {
                source: "upstream",
                message: `backend unreachable: ${error.message}`,
                cause: error,
              }),
        );
      });
      void (async () => {
        try {
          if (upstream.body != null) {
            for await (const piece of upstream.body) {
              if (answered && outgoing.destroyed) return;
              if (!outgoing.write(piece)) {
                await new Promise<void>((drained) => {
                  const settle = () => {
                    outgoing.off("drain", settle);
                    outgoing.off("close", settle);
                    drained();
                  };
                  outgoing.on("drain", settle);
                  outgoing.on("close", settle);
                });
              }
            }
          }
          outgoing.end();
        } catch (error) {
          // The body failed (a proxy check): the backend must never see a complete request.
          outgoing.destroy(error as Error);
        }
      })();
    });
  };
  return { send, sent };
};
