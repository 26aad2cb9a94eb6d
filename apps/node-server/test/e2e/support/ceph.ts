import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";
import { runCommand } from "./process.ts";

const CEPH_SCRIPT = join(REPO_ROOT, "scripts/e2e/ceph-rgw.sh");
const INSTALL_SCRIPT = join(REPO_ROOT, "scripts/e2e/install-deps.sh");

/** An S3 key pair of a radosgw user. */
export interface S3KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The running Ceph RADOS Gateway the lane uses as its real backend. */
export interface CephRgw {
  endpoint: string;
  host: string;
  port: number;
  /** Owner of the buckets reached with a static HMAC pair in cosMap. */
  mainUser: S3KeyPair;
  /** Owner of the buckets reached with credentials from bucketCredsFetcher. */
  altUser: S3KeyPair;
  /** How long `ceph-rgw.sh start` took in this run (near zero when it was already up). */
  startMs: number;
}

const parseKeyValues = (text: string): Map<string, string> =>
  new Map(
    text
      .split("\n")
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
      .filter((match): match is RegExpExecArray => match != null)
      .map((match) => [match[1]!, match[2]!]),
  );

/**
 * Makes sure Ceph RGW runs (installing the Debian packages on a machine that lacks them) and
 * returns its endpoint and users. `scripts/e2e/ceph-rgw.sh start` is idempotent: it only starts
 * daemons that are not running, so this is also how a crashed radosgw is brought back.
 */
export async function ensureCephRgw(): Promise<CephRgw> {
  if (!existsSync("/usr/bin/radosgw") || !existsSync("/usr/bin/aws")) {
    await runCommand("bash", [INSTALL_SCRIPT], { timeoutMs: 600_000 });
  }
  const { stdout, durationMs } = await runCommand("bash", [CEPH_SCRIPT, "start"], {
    timeoutMs: 180_000,
  });
  const values = parseKeyValues(stdout);
  const need = (name: string): string => {
    const value = values.get(name);
    if (value == null) throw new Error(`ceph-rgw.sh start did not print ${name}`);
    return value;
  };
  const endpoint = need("OSP_E2E_RGW_ENDPOINT");
  const url = new URL(endpoint);
  return {
    endpoint,
    host: url.hostname,
    port: Number(url.port),
    mainUser: {
      accessKeyId: need("OSP_E2E_RGW_MAIN_ACCESS_KEY"),
      secretAccessKey: need("OSP_E2E_RGW_MAIN_SECRET_KEY"),
    },
    altUser: {
      accessKeyId: need("OSP_E2E_RGW_ALT_ACCESS_KEY"),
      secretAccessKey: need("OSP_E2E_RGW_ALT_SECRET_KEY"),
    },
    startMs: Math.round(durationMs),
  };
}

/** True when anything answers HTTP on the endpoint within two seconds. */
export async function backendAnswers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}
