// Throw-away self-signed certificates for loopback TLS tests, made with the openssl CLI (EC
// P-256: fast to generate). Each lives in its own temporary folder until `remove()`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its key, as PEM text and as files. */
export interface SelfSignedCertificate {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
  /** Deletes the files. */
  remove(): void;
}

/** Options of {@link createSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** Subject CN; default `localhost`. */
  commonName?: string;
  /** The subjectAltName extension; default `DNS:localhost,IP:127.0.0.1`. */
  subjectAltName?: string;
  /** Validity; default 1 day. */
  days?: number;
}

/** Generates a fresh self-signed certificate. Throws when openssl fails. */
export const createSelfSignedCertificate = (
  options: SelfSignedOptions = {},
): SelfSignedCertificate => {
  const directory = mkdtempSync(join(tmpdir(), "osp-tls-"));
  const certPath = join(directory, "cert.pem");
  const keyPath = join(directory, "key.pem");
  try {
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
        String(options.days ?? 1),
        "-subj",
        `/CN=${options.commonName ?? "localhost"}`,
        "-addext",
        `subjectAltName=${options.subjectAltName ?? "DNS:localhost,IP:127.0.0.1"}`,
      ],
      { stdio: "ignore" },
    );
    return {
      cert: readFileSync(certPath, "utf8"),
      key: readFileSync(keyPath, "utf8"),
      certPath,
      keyPath,
      remove: () => rmSync(directory, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
};
