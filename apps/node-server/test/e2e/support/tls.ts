import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./process.ts";

/** A throw-away certificate authority and a server certificate it signed, as PEM text and files. */
export interface TestCertificates {
  caCertPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

const openssl = (args: readonly string[], cwd: string) =>
  runCommand("openssl", args, { cwd, timeoutMs: 30_000 });

/**
 * Generates with openssl a CA and a server certificate for 127.0.0.1 / localhost signed by it,
 * valid one day (EC P-256: fast to generate). The CA file is what `--ca-bundle` is given.
 */
export async function generateTestCertificates(dir: string): Promise<TestCertificates> {
  const extPath = join(dir, "server.ext");
  await writeFile(
    extPath,
    [
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = IP:127.0.0.1, DNS:localhost",
      "",
    ].join("\n"),
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=OSP e2e test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  await openssl(
    ["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
    dir,
  );
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.pem",
      "-days",
      "1",
      "-extfile",
      extPath,
    ],
    dir,
  );
  const caCertPath = join(dir, "ca.pem");
  const serverCertPath = join(dir, "server.pem");
  const serverKeyPath = join(dir, "server.key");
  return {
    caCertPath,
    serverCertPath,
    serverKeyPath,
    caCertPem: await readFile(caCertPath, "utf8"),
    serverCertPem: await readFile(serverCertPath, "utf8"),
    serverKeyPem: await readFile(serverKeyPath, "utf8"),
  };
}
