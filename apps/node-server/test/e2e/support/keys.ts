import type { S3KeyPair } from "./ceph.ts";

/** The key pair the clients sign with; OSP knows it from hmacKeystore. A test value, not a secret. */
export const CLIENT_KEY: S3KeyPair = {
  accessKeyId: "OSPE2ECLIENTKEY00001",
  secretAccessKey: "osp-e2e-client-secret-key-0000000000000001",
};

/** A key pair OSP authenticates but its validator refuses everywhere. */
export const DENIED_CLIENT_KEY: S3KeyPair = {
  accessKeyId: "OSPE2EDENIEDKEY00002",
  secretAccessKey: "osp-e2e-denied-secret-key-0000000000000002",
};

/** A bucket name unique to this run (S3 rules: lower case, digits, hyphens, at most 63 characters). */
export function uniqueBucketName(role: string): string {
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  return `osp-e2e-${runId}-${role}`.slice(0, 63);
}
