// Fallback backend when nginx is not installed (lanes a and d are then skipped): GET serves files
// under a data directory (small ones from memory), PUT reads the whole body before answering.
// Usage: `node node-backend.mjs <dataDir>`; reports { type: "ready", port } via IPC.
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { join, normalize } from "node:path";

const dataDir = process.argv[2];
if (dataDir == null) throw new Error("usage: node-backend.mjs <dataDir>");

/** Small files are answered from memory, as nginx's page-cache-backed sendfile would. */
const smallCache = new Map();

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const path = normalize(decodeURIComponent(req.url.split("?")[0]));
  if (path.includes("..")) {
    res.writeHead(400, { "content-length": "0" }).end();
    return;
  }
  if (req.method === "PUT") {
    req.on("data", () => {});
    req.on("end", () => res.writeHead(201, { "content-length": "0" }).end());
    return;
  }
  const file = join(dataDir, path);
  let size;
  try {
    size = statSync(file).size;
  } catch {
    res.writeHead(404, { "content-length": "0" }).end();
    return;
  }
  res.writeHead(200, {
    "content-length": String(size),
    "content-type": "application/octet-stream",
  });
  if (size <= 65_536) {
    let body = smallCache.get(file);
    if (body == null) smallCache.set(file, (body = readFileSync(file)));
    res.end(body);
    return;
  }
  createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.send?.({ type: "ready", port: server.address().port }));
process.on("message", (message) => {
  if (message?.type === "stop") {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
