export {
  createUndiciTransport,
  type UndiciTransport,
  type UndiciTransportOptions,
} from "./transport.ts";
