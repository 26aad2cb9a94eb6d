import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { ServerConfigInput } from "@osp/node-server";
import { emptyBucket, type SuiteTarget } from "../client-suite.ts";
import { backendAnswers, ensureCephRgw, type CephRgw, type S3KeyPair } from "./ceph.ts";
import type { BackendWatch } from "./harness.ts";
import { CLIENT_KEY, DENIED_CLIENT_KEY, uniqueBucketName } from "./keys.ts";
import { startOsp, type RunningOsp } from "./osp.ts";

/** Ceph RGW with two fresh buckets and OSP in front of it, as one test file uses them. */
export interface CephBehindOsp {
  ceph: CephRgw;
  osp: RunningOsp;
  target: SuiteTarget;
  watch: BackendWatch;
  /** Milliseconds startServer() took. */
  ospStartMs: number;
  /** Closes OSP, deletes both buckets and their objects on the backend (memstore RAM), destroys clients. */
  cleanup(): Promise<void>;
}

/**
 * Starts (or reuses) Ceph RGW, creates a bucket owned by the main user (reached through a static
 * HMAC pair in cosMap) and one owned by the alt user (reached through bucketCredsFetcher returning
 * JSON), and starts OSP with the "signed-chunks" upload profile for both: RGW 16 takes neither
 * trailer encodings nor chunked bodies without a length.
 */
export async function startCephBehindOsp(
  extraConfig: Partial<ServerConfigInput> = {},
): Promise<CephBehindOsp> {
  let ceph = await ensureCephRgw();
  const staticBucket = uniqueBucketName("static");
  const fetchedBucket = uniqueBucketName("fetched");
  const clients: S3Client[] = [];
  const directClient = (key: S3KeyPair): S3Client => {
    const client = new S3Client({
      endpoint: ceph.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: key,
    });
    clients.push(client);
    return client;
  };
  const mainDirect = directClient(ceph.mainUser);
  const altDirect = directClient(ceph.altUser);
  await mainDirect.send(new CreateBucketCommand({ Bucket: staticBucket }));
  await altDirect.send(new CreateBucketCommand({ Bucket: fetchedBucket }));

  let fetcherCalls = 0;
  const backend = {
    host: ceph.host,
    port: ceph.port,
    tls: false,
    addressingStyle: "path" as const,
    region: "us-east-1",
    uploadEncodings: "signed-chunks" as const,
  };
  const startedAt = performance.now();
  const osp = await startOsp({
    cosMap: {
      [staticBucket]: {
        ...backend,
        accessKey: ceph.mainUser.accessKeyId,
        secretKey: ceph.mainUser.secretAccessKey,
      },
      [fetchedBucket]: { ...backend, ttl: 60 },
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
        access_key: ceph.altUser.accessKeyId,
        secret_key: ceph.altUser.secretAccessKey,
      });
    },
    ...extraConfig,
  });
  const ospStartMs = Math.round(performance.now() - startedAt);

  const watch: BackendWatch = {
    name: "Ceph RGW",
    answers: () => backendAnswers(ceph.endpoint),
    async restart() {
      ceph = await ensureCephRgw();
    },
  };
  return {
    ceph,
    osp,
    ospStartMs,
    watch,
    target: {
      ospEndpoint: osp.httpUrl,
      clientKey: CLIENT_KEY,
      deniedClientKey: DENIED_CLIENT_KEY,
      staticBucket,
      fetchedBucket,
      backendDirect: mainDirect,
      fetcherCalls: () => fetcherCalls,
    },
    async cleanup() {
      await osp.close();
      if (await backendAnswers(ceph.endpoint)) {
        for (const [client, bucket] of [
          [mainDirect, staticBucket],
          [altDirect, fetchedBucket],
        ] as const) {
          await emptyBucket(client, bucket).catch(() => {});
          await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
        }
      }
      for (const client of clients) client.destroy();
    },
  };
}
