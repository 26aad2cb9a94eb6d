// @osp/core/testing: the contract suites every adapter runs (vitest), so any Transport or
// BearerTokenProvider implementation proves the behaviour the pipeline relies on.

export { describeTransport, type TransportContractCapabilities } from "./transport-contract.ts";
export {
  describeBearerTokenProvider,
  type BearerTokenContractEnvironment,
} from "./bearer-token-contract.ts";
