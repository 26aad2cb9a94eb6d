export {
  createUndiciTransport,
  UNDICI_TIMEOUT_MINIMUMS_MS,
  type UndiciTimeoutOption,
  type UndiciTransport,
  type UndiciTransportOptions,
} from "./transport.ts";
