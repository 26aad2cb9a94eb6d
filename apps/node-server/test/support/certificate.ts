// A throw-away self-signed certificate for 127.0.0.1/localhost, made with the openssl CLI.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  dir: string;
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  remove(): void;
}

export const createTestCertificate = (): TestCertificate => {
  const dir = mkdtempSync(join(tmpdir(), "osp-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
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
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return {
    dir,
    certPath,
    keyPath,
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
};
