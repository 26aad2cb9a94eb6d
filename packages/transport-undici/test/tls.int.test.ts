import { execFileSync } from "node:child_process";
import type { RequestListener } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUndiciTransport } from "../src/index.ts";
import { listen, readAll, rejectionOf, request, type Loopback } from "./loopback.ts";

/** A fresh self-signed EC certificate for the given subjectAltName, made with the openssl CLI. */
const selfSigned = (
  directory: string,
  name: string,
  subjectAltName: string,
): { key: string; cert: string } => {
  const keyPath = join(directory, `${name}.key`);
  const certPath = join(directory, `${name}.crt`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=${subjectAltName}`,
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8") };
};

describe("createUndiciTransport over TLS (self-signed backend)", () => {
  let directory: string;
  let matching: { key: string; cert: string };
  let mismatched: { key: string; cert: string };
  let backend: Loopback;
  let wrongNameBackend: Loopback;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "osp-tls-"));
    matching = selfSigned(directory, "osp-loopback", "IP:127.0.0.1");
    mismatched = selfSigned(directory, "osp-elsewhere", "DNS:other.example");
    const answer: RequestListener = (_req, res) => {
      res.writeHead(200, { "content-length": "6" }).end("secure");
    };
    backend = await listen(answer, matching);
    wrongNameBackend = await listen(answer, mismatched);
  });

  afterAll(async () => {
    await backend?.close();
    await wrongNameBackend?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("rejects a self-signed certificate with ServiceUnavailable when verifying", async () => {
    const transport = createUndiciTransport();
    try {
      const error = await rejectionOf(
        transport.send(request(backend.origin, { pathAndQuery: "/", verifyTls: true })),
      );
      expect(error).toMatchObject({ code: "ServiceUnavailable", status: 503, source: "upstream" });
      expect((error as Error).message).toMatch(
        /TLS connection failed \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/,
      );
    } finally {
      await transport.close();
    }
  });

  it("accepts it with verifyTls false, without reusing that connection for a verified request", async () => {
    const transport = createUndiciTransport();
    try {
      const response = await transport.send(
        request(backend.origin, { pathAndQuery: "/", verifyTls: false }),
      );
      expect((await readAll(response.body)).toString()).toBe("secure");
      const error = await rejectionOf(
        transport.send(request(backend.origin, { pathAndQuery: "/", verifyTls: true })),
      );
      expect(error).toMatchObject({ code: "ServiceUnavailable" });
    } finally {
      await transport.close();
    }
  });

  it("accepts it when its certificate is given as ca", async () => {
    const transport = createUndiciTransport({ ca: matching.cert });
    try {
      const response = await transport.send(
        request(backend.origin, { pathAndQuery: "/", verifyTls: true }),
      );
      expect(response.status).toBe(200);
      expect((await readAll(response.body)).toString()).toBe("secure");
    } finally {
      await transport.close();
    }
  });

  it("rejects a trusted certificate for another host name with ServiceUnavailable", async () => {
    const transport = createUndiciTransport({ ca: [mismatched.cert, matching.cert] });
    try {
      const error = await rejectionOf(
        transport.send(request(wrongNameBackend.origin, { pathAndQuery: "/", verifyTls: true })),
      );
      expect(error).toMatchObject({ code: "ServiceUnavailable", source: "upstream" });
      expect((error as Error).message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    } finally {
      await transport.close();
    }
  });
});
