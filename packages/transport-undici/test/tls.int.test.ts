import type { RequestListener } from "node:http";
import { createSelfSignedCertificate, type SelfSignedCertificate } from "@osp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUndiciTransport } from "../src/index.ts";
import { listen, readAll, rejectionOf, request, type Loopback } from "./loopback.ts";

describe("createUndiciTransport over TLS (self-signed backend)", () => {
  let matching: SelfSignedCertificate;
  let mismatched: SelfSignedCertificate;
  let backend: Loopback;
  let wrongNameBackend: Loopback;

  beforeAll(async () => {
    matching = createSelfSignedCertificate({
      commonName: "osp-loopback",
      subjectAltName: "IP:127.0.0.1",
    });
    mismatched = createSelfSignedCertificate({
      commonName: "osp-elsewhere",
      subjectAltName: "DNS:other.example",
    });
    const answer: RequestListener = (_req, res) => {
      res.writeHead(200, { "content-length": "6" }).end("secure");
    };
    backend = await listen(answer, matching);
    wrongNameBackend = await listen(answer, mismatched);
  });

  afterAll(async () => {
    await backend?.close();
    await wrongNameBackend?.close();
    matching.remove();
    mismatched.remove();
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
