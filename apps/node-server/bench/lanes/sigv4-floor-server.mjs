// Lane (e): the floor of any SigV4 re-signing proxy in Node. The pass-through of lane (c) plus
// exactly the two signature computations OSP cannot avoid: the client's header signature is
// verified against a static key and the request is re-signed for the backend, both with
// @osp/sigv4 and node:crypto. No authorization, logs, metrics, checks or error mapping: what it
// costs over lane (c) is what SigV4 itself costs here, and what OSP costs over it is OSP's own.
// Options as JSON in env OSP_BENCH_LANE_OPTIONS: { backendPort, client, backend }.
import { createServer } from "node:http";
import { createSigningKeyCache, signRequest, verifyRequest } from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { Pool } from "undici";

const options = JSON.parse(process.env.OSP_BENCH_LANE_OPTIONS ?? "{}");
const backendHost = `127.0.0.1:${options.backendPort}`;
const pool = new Pool(`http://${backendHost}`, {
  connections: 256,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
});
const clientKeys = createSigningKeyCache({ crypto: nodeCryptoProvider });
const backendKeys = createSigningKeyCache({ crypto: nodeCryptoProvider });
const lookupSecret = (accessKeyId) =>
  accessKeyId === options.client.accessKeyId ? options.client.secretAccessKey : undefined;

// Not forwarded: hop-by-hop headers, and what the re-signing replaces.
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "host",
  "authorization",
  "x-amz-date",
  "x-amz-content-sha256",
]);

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const raw = req.rawHeaders;
  const headers = [];
  for (let index = 0; index < raw.length; index += 2) headers.push([raw[index], raw[index + 1]]);
  const hasBody =
    (req.headers["content-length"] != null && req.headers["content-length"] !== "0") ||
    req.headers["transfer-encoding"] != null;
  const target = req.url;
  const question = target.indexOf("?");
  const path = question < 0 ? target : target.slice(0, question);
  const query = question < 0 ? "" : target.slice(question + 1);
  verifyRequest(
    { method: req.method, path, query, headers },
    {
      lookupSecret,
      now: Date.now(),
      crypto: nodeCryptoProvider,
      signingKeyCache: clientKeys,
    },
  ).then(
    (verified) => {
      const forwarded = [["host", backendHost]];
      for (const pair of headers) if (!DROPPED.has(pair[0].toLowerCase())) forwarded.push(pair);
      const signed = signRequest(
        { method: req.method, path, query, headers: forwarded },
        {
          credentials: options.backend,
          region: "us-east-1",
          now: Date.now(),
          payloadHash: verified.payloadHash,
          crypto: nodeCryptoProvider,
          signingKeyCache: backendKeys,
        },
      );
      const flat = [];
      for (const [name, value] of signed.headers) flat.push(name, value);
      pool.dispatch(
        { method: req.method, path: target, headers: flat, body: hasBody ? req : null },
        {
          onConnect() {},
          onHeaders(statusCode, rawHeaders, resume) {
            const out = [];
            for (let index = 0; index < rawHeaders.length; index += 2) {
              out.push(
                rawHeaders[index].toString("latin1"),
                rawHeaders[index + 1].toString("latin1"),
              );
            }
            res.writeHead(statusCode, out);
            res.on("drain", resume);
            return true;
          },
          onData: (chunk) => res.write(chunk),
          onComplete: () => res.end(),
          onError: () => res.destroy(),
        },
      );
    },
    () => {
      res.writeHead(403, { "content-length": "0" });
      res.end();
      if (hasBody) req.resume();
    },
  );
});

server.listen(0, "127.0.0.1", () => {
  process.send?.({ type: "ready", port: server.address().port });
});
process.on("message", (message) => {
  if (message?.type === "stop") {
    server.close();
    server.closeAllConnections();
    void pool.destroy().finally(() => process.exit(0));
  }
});
process.on("disconnect", () => process.exit(0));
