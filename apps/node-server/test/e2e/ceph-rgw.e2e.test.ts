import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineClientSuite } from "./client-suite.ts";
import { startCephBehindOsp, type CephBehindOsp } from "./support/ceph-osp.ts";
import { makeTempDir } from "./support/files.ts";
import { MatrixRecorder } from "./support/matrix.ts";

// Backend A: Ceph RADOS Gateway 16.2 (scripts/e2e/ceph-rgw.sh) behind OSP, with the
// "signed-chunks" upload profile: OSP translates the SDK's default trailer uploads for it.
const BACKEND = "Ceph RGW";
const matrix = new MatrixRecorder("1-ceph-rgw");
let lane: CephBehindOsp | undefined;

beforeAll(async () => {
  lane = await startCephBehindOsp();
  matrix.note(
    `Ceph RGW start-up (scripts/e2e/ceph-rgw.sh start) in this run: ${lane.ceph.startMs} ms`,
  );
  matrix.note(`OSP startServer() in process: ${lane.ospStartMs} ms`);
});

afterAll(async () => {
  await lane?.cleanup();
  console.log(matrix.flush());
});

describe("Ceph RGW 16 itself (the fact behind the signed-chunks profile)", () => {
  it("refuses the SDK's default stream upload when sent to it directly", async () => {
    const dir = await makeTempDir("osp-e2e-direct");
    try {
      const file = join(dir.path, "body.txt");
      await writeFile(file, "x".repeat(1000));
      const error = await lane!.target.backendDirect
        .send(
          new PutObjectCommand({
            Bucket: lane!.target.staticBucket,
            Key: "direct-stream.txt",
            Body: createReadStream(file),
          }),
        )
        .then(
          () => undefined,
          (e: { $metadata?: { httpStatusCode?: number } }) => e,
        );
      // 400 XAmzContentSHA256Mismatch (trailer encoding) or 411 MissingContentLength (chunked, no length).
      expect([400, 411]).toContain(error?.$metadata?.httpStatusCode);
    } finally {
      await dir.remove();
    }
  });
});

defineClientSuite({
  backendLabel: BACKEND,
  matrix,
  target: () => lane!.target,
  watch: () => lane?.watch,
  uploadPartCopyUnsupported: {
    keys: (key) => key.includes("%"),
    reason:
      "Ceph RGW 16 aborts (radosgw dies) on an UploadPartCopy whose copy source holds a raw `%`; those keys are not sent to it by UploadPartCopy — a backend limitation, not OSP's",
  },
  backendVerifiesChecksums: false,
  largeUploadBytes: 100 * 1024 * 1024,
});
