// Request ids in the shape S3 uses for `x-amz-request-id`: 16 upper-case hex characters. Random
// bytes are drawn in batches because one `randomBytes` call per request shows up in profiles.
import { randomBytes } from "node:crypto";

const IDS_PER_BATCH = 512;
const BYTES_PER_ID = 8;

let batch = "";
let nextIndex = IDS_PER_BATCH;

/** A fresh request id: 16 upper-case hex characters. @public */
export const createRequestId = (): string => {
  if (nextIndex >= IDS_PER_BATCH) {
    batch = randomBytes(IDS_PER_BATCH * BYTES_PER_ID)
      .toString("hex")
      .toUpperCase();
    nextIndex = 0;
  }
  const start = nextIndex * BYTES_PER_ID * 2;
  nextIndex += 1;
  return batch.slice(start, start + BYTES_PER_ID * 2);
};
