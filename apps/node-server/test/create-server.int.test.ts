// createServer: the configuration is validated before anything listens; listen() starts it once.
import { createServer as createNetServer } from "node:net";
import { ConfigError } from "@osp/core";
import type { LocalS3 } from "@osp/local-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, startServer, type ServerHandle } from "../src/index.ts";
import { LogCapture, ospConfig, signedSend, startBackend } from "./support/harness.ts";

describe("createServer", () => {
  let backend: LocalS3;
  const handles: ServerHandle[] = [];

  beforeAll(async () => {
    backend = await startBackend();
  });

  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.close()));
    await backend?.close();
  });

  it("throws ConfigError at creation, before any port is taken", async () => {
    // A port we hold: a server that tried to bind it first would fail with EADDRINUSE instead.
    const holder = createNetServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const bad = { ...ospConfig(backend.port), httpPort: port, cosMap: { "": { host: "" } } };
      expect(() => createServer(bad)).toThrow(ConfigError);
      await expect(startServer(bad)).rejects.toBeInstanceOf(ConfigError);
    } finally {
      holder.close();
    }
  });

  it("listens on listen(), serves signed requests, and refuses a second listen()", async () => {
    const logs = new LogCapture();
    const server = createServer(ospConfig(backend.port, { logDestination: logs }));
    expect(server.config.settings.httpPort).toBe(0);
    expect(logs.lines).toEqual([]);
    const handle = await server.listen();
    handles.push(handle);
    expect(handle.http?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await signedSend(handle.http!.url, { path: "/test-bucket/" });
    expect(response.status).toBe(200);
    await expect(server.listen()).rejects.toThrow("already");
  });
});
