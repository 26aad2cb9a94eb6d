import { describeBearerTokenProvider } from "@osp/core/testing";
import { createIbmIamTokenProvider } from "../src/index.ts";

describeBearerTokenProvider("@osp/ibm-iam", ({ tokenUrl, now }) =>
  createIbmIamTokenProvider({ tokenUrl, now, timeoutMs: 5_000 }),
);
