// Checks a plain body against the SHA-256 the client signed, for backends that cannot check it
// themselves (bearer-token backends). The last bytes are held back until the hash matches.

import { timingSafeEqual, toHex, type CryptoProvider } from "@osp/sigv4";
import { OspError } from "../errors.ts";
import { holdBackUntil } from "./streams.ts";

/**
 * Streams `source`, hashing it; releases the final piece only when the SHA-256 equals
 * `expectedSha256Hex` (and the length equals `expectedLengthBytes` when given).
 * Throws `XAmzContentSHA256Mismatch` or `IncompleteBody` otherwise.
 * @public
 */
export const verifySha256Payload = (
  source: AsyncIterable<Uint8Array>,
  expectedSha256Hex: string,
  crypto: CryptoProvider,
  expectedLengthBytes?: number,
): AsyncGenerator<Uint8Array> => {
  const hash = crypto.createSha256();
  let lengthBytes = 0;
  async function* hashing(): AsyncGenerator<Uint8Array> {
    for await (const piece of source) {
      hash.update(piece);
      lengthBytes += piece.byteLength;
      yield piece;
    }
  }
  return holdBackUntil(hashing(), () => {
    if (expectedLengthBytes != null && lengthBytes !== expectedLengthBytes) {
      throw new OspError("IncompleteBody", {
        message: `The body has ${lengthBytes} bytes; Content-Length said ${expectedLengthBytes}.`,
      });
    }
    if (!timingSafeEqual(toHex(hash.digest()), expectedSha256Hex.toLowerCase())) {
      throw new OspError("XAmzContentSHA256Mismatch");
    }
  });
};
