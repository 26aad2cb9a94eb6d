// Lane (c): the floor of any Node proxy. A node:http server that forwards method, path and
// headers to one backend through an undici Pool's low-level `dispatch` (raw header arrays, no
// parsing, no signing, no checks) and streams both bodies with backpressure.
// Run as a child process: `node passthrough-server.mjs <backendOrigin>`; reports its port via IPC.
import { createServer } from "node:http";
import { Pool } from "undici";

const backendOrigin = process.argv[2];
if (backendOrigin == null) throw new Error("usage: passthrough-server.mjs <backendOrigin>");

const pool = new Pool(backendOrigin, {
  connections: 256,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
});

// Hop-by-hop headers are not forwarded (undici refuses most of them anyway).
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
]);

const forwardRequestHeaders = (rawHeaders) => {
  const headers = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[index].toLowerCase())) {
      headers.push(rawHeaders[index], rawHeaders[index + 1]);
    }
  }
  return headers;
};

const forwardResponseHeaders = (rawHeaders) => {
  const headers = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index].toString("latin1");
    if (!HOP_BY_HOP.has(name.toLowerCase())) {
      headers.push(name, rawHeaders[index + 1].toString("latin1"));
    }
  }
  return headers;
};

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const hasBody =
    (req.headers["content-length"] != null && req.headers["content-length"] !== "0") ||
    req.headers["transfer-encoding"] != null;
  let abortUpstream;
  let finished = false;
  res.once("close", () => {
    if (!finished) abortUpstream?.(new Error("client closed"));
  });
  pool.dispatch(
    {
      method: req.method,
      path: req.url,
      headers: forwardRequestHeaders(req.rawHeaders),
      body: hasBody ? req : null,
    },
    {
      onConnect(abort) {
        abortUpstream = abort;
      },
      onHeaders(statusCode, rawHeaders, resume) {
        res.writeHead(statusCode, forwardResponseHeaders(rawHeaders));
        res.on("drain", resume);
        return true;
      },
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        finished = true;
        res.end();
      },
      onError() {
        finished = true;
        if (res.headersSent) {
          res.destroy();
        } else {
          res.writeHead(502, { "content-length": "0" });
          res.end();
        }
        if (hasBody) req.resume();
      },
    },
  );
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

server.listen(0, "127.0.0.1", () => {
  process.send?.({ type: "ready", port: server.address().port });
});

process.on("message", (message) => {
  if (message?.type === "gc") {
    globalThis.gc?.();
    process.send?.({ type: "gc-done" });
  }
  if (message?.type === "stop") {
    server.close();
    server.closeAllConnections();
    void pool.destroy().finally(() => process.exit(0));
  }
});
// The orchestrator died: do not linger.
process.on("disconnect", () => process.exit(0));
