import { describeTransport } from "@osp/core/testing";
import { createUndiciTransport } from "../src/index.ts";

describeTransport("@osp/transport-undici", () =>
  createUndiciTransport({ headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000 }),
);
