// Shared pieces of the integration tests: a local S3 backend, an SDK client, temp directories.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { createLocalS3, type LocalS3 } from "@osp/local-s3";

/** Keys of the backend (what OSP re-signs with) and of a client (what OSP verifies). */
export const BACKEND_KEY = {
  accessKeyId: "BACKENDKEY0000000001",
  secretAccessKey: "backend-secret-000000000000000000000001",
};
export const CLIENT_KEY = {
  accessKeyId: "OSPTESTCLIENT0000001",
  secretAccessKey: "client-secret-0000000000000000000000001",
};

/** A local S3 server on 127.0.0.1 with `buckets`. */
export const startBackend = (buckets: string[]): Promise<LocalS3> =>
  createLocalS3({
    credentials: [BACKEND_KEY],
    storage: "memory",
    host: "127.0.0.1",
    port: 0,
    buckets,
  });

/** An SDK client for OSP at `endpoint` (path style, no retries). */
export const s3Client = (endpoint: string, credentials = CLIENT_KEY): S3Client =>
  new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
  });

/** A fresh temp directory and its removal. */
export const tempDir = (): { path: string; remove(): void } => {
  const path = mkdtempSync(join(tmpdir(), "osp-cli-test-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
};
