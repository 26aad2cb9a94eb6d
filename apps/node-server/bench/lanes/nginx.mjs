// nginx instances run as our own foreground children (`daemon off`), loopback only, every file
// (pid, logs, temp bodies) inside the run's temp directory; never the system service.
//
// Two instances, one worker each, so that each proxy lane is one process on one core:
//   backend — serves the fixed objects, and stores PUT bodies with the DAV module. DAV reads the
//             whole request body into a temp file (on tmpfs when /dev/shm exists) and renames it
//             into place before answering 201/204, so a PUT is answered only after its last byte,
//             as an object store does. (`return 200` would answer before reading the body.)
//   proxy   — lane (d): `proxy_pass` to the backend over keep-alive upstream connections,
//             streaming both ways (no request buffering; response buffers in memory only).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, spawnTracked } from "./children.mjs";

const CANDIDATES = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

/** Path of the nginx binary, or undefined when it is not installed. */
export const findNginx = () => {
  const fromEnv = process.env.NGINX_BIN;
  if (fromEnv != null && fromEnv !== "") return existsSync(fromEnv) ? fromEnv : undefined;
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found != null) return found;
  try {
    return execFileSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
};

const commonHead = (prefix) => `
${process.getuid?.() === 0 ? "user root root;" : ""}
worker_processes 1;
daemon off;
master_process on;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "error.log")} warn;
events { worker_connections 4096; multi_accept on; }
`;

const commonHttp = (prefix) => `
  access_log off;
  server_tokens off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  client_max_body_size 0;
  client_body_temp_path ${join(prefix, "client_body")};
  proxy_temp_path ${join(prefix, "proxy_temp")};
  fastcgi_temp_path ${join(prefix, "fastcgi_temp")};
  uwsgi_temp_path ${join(prefix, "uwsgi_temp")};
  scgi_temp_path ${join(prefix, "scgi_temp")};
  types { application/octet-stream bin; }
  default_type application/octet-stream;
`;

/** Backend configuration: objects under `dataDir/<bucket>/`, PUT stores them (DAV). */
export const backendConfig = ({ prefix, dataDir, port }) => `${commonHead(prefix)}
http {
${commonHttp(prefix)}
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${dataDir};
    location / {
      dav_methods PUT;
      create_full_put_path on;
      client_body_buffer_size 1m;
    }
  }
}
`;

/** Lane (d): a plain reverse proxy in front of the backend. */
export const proxyConfig = ({ prefix, port, backendPort }) => `${commonHead(prefix)}
http {
${commonHttp(prefix)}
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_request_buffering off;
      proxy_buffer_size 64k;
      proxy_buffers 8 64k;
      proxy_max_temp_file_size 0;
    }
  }
}
`;

const waitForPort = async (port, child, timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  const { connect } = await import("node:net");
  while (Date.now() < deadline) {
    if (child.exitCode != null) break;
    const open = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nginx did not listen on ${port}: ${child.stderrTail()}`);
};

/**
 * Starts one nginx instance in `prefix` with the configuration `render({ prefix, port })`.
 * Retries with another port when the chosen one was taken meanwhile.
 */
export const startNginx = async ({ nginxBin, prefix, render }) => {
  mkdirSync(prefix, { recursive: true });
  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const configPath = join(prefix, "nginx.conf");
    writeFileSync(configPath, render({ prefix, port }));
    const child = spawnTracked(nginxBin, [
      "-p",
      prefix,
      "-e",
      join(prefix, "error.log"),
      "-c",
      configPath,
    ]);
    try {
      await waitForPort(port, child, 5_000);
      return { child, port, url: `http://127.0.0.1:${port}` };
    } catch (error) {
      lastError = error;
      child.kill("SIGKILL");
    }
  }
  throw lastError;
};
