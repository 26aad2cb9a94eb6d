import { X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSelfSignedCertificate } from "./certificate.ts";

describe("createSelfSignedCertificate", () => {
  it("makes a loopback certificate whose key matches it, and removes its files", () => {
    const certificate = createSelfSignedCertificate();
    try {
      const x509 = new X509Certificate(certificate.cert);
      expect(x509.subject).toBe("CN=localhost");
      expect(x509.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1");
      expect(x509.checkPrivateKey(createPrivateKey(certificate.key))).toBe(true);
      expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
      expect(existsSync(certificate.certPath) && existsSync(certificate.keyPath)).toBe(true);
    } finally {
      certificate.remove();
    }
    expect(existsSync(certificate.certPath)).toBe(false);
  });

  it("takes the subject and the names", () => {
    const certificate = createSelfSignedCertificate({
      commonName: "osp-elsewhere",
      subjectAltName: "DNS:other.example",
    });
    try {
      const x509 = new X509Certificate(certificate.cert);
      expect(x509.subject).toBe("CN=osp-elsewhere");
      expect(x509.checkHost("other.example")).toBe("other.example");
      expect(x509.checkIP("127.0.0.1")).toBeUndefined();
    } finally {
      certificate.remove();
    }
  });
});
