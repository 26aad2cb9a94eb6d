import { S3Client } from "@aws-sdk/client-s3";
import { createLocalS3, type LocalS3 } from "@osp/local-s3";
import { afterAll, beforeAll } from "vitest";
import { defineClientSuite, type SuiteTarget } from "./client-suite.ts";
import type { S3KeyPair } from "./support/ceph.ts";
import { CLIENT_KEY, DENIED_CLIENT_KEY, uniqueBucketName } from "./support/keys.ts";
import { MatrixRecorder } from "./support/matrix.ts";
import { startOsp, type RunningOsp } from "./support/osp.ts";

// Backend B: @osp/local-s3 (profile "aws": accepts every SigV4 payload form, verifies every
// signature) behind OSP, in this process. Its request log tells which key signed each request.
const BACKEND = "local-s3";
const matrix = new MatrixRecorder("2-local-s3");
const staticBucket = uniqueBucketName("static");
const fetchedBucket = uniqueBucketName("fetched");
const STATIC_OWNER: S3KeyPair = {
  accessKeyId: "LOCALS3STATICKEY0001",
  secretAccessKey: "local-s3-static-secret-0000000000000001",
};
const FETCHED_OWNER: S3KeyPair = {
  accessKeyId: "LOCALS3FETCHEDKEY002",
  secretAccessKey: "local-s3-fetched-secret-000000000000002",
};

let backend: LocalS3;
let osp: RunningOsp | undefined;
let direct: S3Client | undefined;
let fetcherCalls = 0;
const keysSeenByBucket = new Map<string, Set<string>>();
let target: SuiteTarget;

beforeAll(async () => {
  backend = await createLocalS3({
    credentials: [STATIC_OWNER, FETCHED_OWNER],
    storage: "memory",
    profile: "aws",
    buckets: [staticBucket, fetchedBucket],
    onRequest(event) {
      if (event.bucket == null || event.accessKeyId == null) return;
      const seen = keysSeenByBucket.get(event.bucket) ?? new Set<string>();
      seen.add(event.accessKeyId);
      keysSeenByBucket.set(event.bucket, seen);
    },
  });
  const url = new URL(backend.url);
  const origin = {
    host: url.hostname,
    port: Number(url.port),
    tls: false,
    addressingStyle: "path" as const,
    region: "us-east-1",
  };
  osp = await startOsp({
    cosMap: {
      [staticBucket]: {
        ...origin,
        accessKey: STATIC_OWNER.accessKeyId,
        secretKey: STATIC_OWNER.secretAccessKey,
      },
      [fetchedBucket]: { ...origin, ttl: 60 },
    },
    hmacKeystore: [
      { accessKey: CLIENT_KEY.accessKeyId, secretKey: CLIENT_KEY.secretAccessKey },
      { accessKey: DENIED_CLIENT_KEY.accessKeyId, secretKey: DENIED_CLIENT_KEY.secretAccessKey },
    ],
    validator: (token: string, bucket: string) =>
      token === CLIENT_KEY.accessKeyId && (bucket === staticBucket || bucket === fetchedBucket),
    bucketCredsFetcher: async (token: string, bucket: string) => {
      fetcherCalls += 1;
      if (token !== CLIENT_KEY.accessKeyId || bucket !== fetchedBucket)
        throw new Error("no credentials for this bucket");
      return JSON.stringify({
        access_key: FETCHED_OWNER.accessKeyId,
        secret_key: FETCHED_OWNER.secretAccessKey,
      });
    },
  });
  direct = new S3Client({
    endpoint: backend.url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: STATIC_OWNER,
  });
  target = {
    ospEndpoint: osp.httpUrl,
    clientKey: CLIENT_KEY,
    deniedClientKey: DENIED_CLIENT_KEY,
    staticBucket,
    fetchedBucket,
    backendDirect: direct,
    fetcherCalls: () => fetcherCalls,
    backendKeysSeen: (bucket) => keysSeenByBucket.get(bucket) ?? new Set(),
    backendKeyOf: (bucket) =>
      bucket === fetchedBucket ? FETCHED_OWNER.accessKeyId : STATIC_OWNER.accessKeyId,
  };
});

afterAll(async () => {
  await osp?.close();
  direct?.destroy();
  await backend?.close();
  console.log(matrix.flush());
});

defineClientSuite({
  backendLabel: BACKEND,
  matrix,
  target: () => target,
  backendVerifiesChecksums: true,
  largeUploadBytes: 100 * 1024 * 1024,
});
