const textEncoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** UTF-8 bytes of a string. @public */
export const utf8 = (text: string): Uint8Array => textEncoder.encode(text);

/** Lower-case hex of bytes. @public */
export const toHex = (bytes: Uint8Array): string => {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
};

/**
 * Compares two strings in time that depends only on their lengths, so a signature check does
 * not leak how many leading characters matched.
 * @public
 */
export const timingSafeEqual = (a: string, b: string): boolean => {
  let diff = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
};
