// Client key pairs in AWS's shapes: a 20-character upper-case alphanumeric access key id (with
// the recognisable prefix "OSP") and a 40-character base64 secret (240 bits of entropy).
import { randomBytes } from "node:crypto";

/** Prefix of every access key id OSP generates. */
export const ACCESS_KEY_PREFIX = "OSP";
/** Length of an access key id, as AWS's. */
export const ACCESS_KEY_LENGTH = 20;
/** Length of a secret access key, as AWS's. */
export const SECRET_KEY_LENGTH = 40;

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
// The largest multiple of 36 below 256: bytes at or above it are skipped, so every character is
// equally likely (a plain `byte % 36` would favour the first 4 characters).
const UNBIASED_LIMIT = 252;

/** A source of random bytes; `crypto.randomBytes` unless a test injects one. */
export type RandomBytes = (size: number) => Uint8Array;

const randomAlphanumeric = (length: number, random: RandomBytes): string => {
  let out = "";
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte >= UNBIASED_LIMIT) continue;
      out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
      if (out.length === length) break;
    }
  }
  return out;
};

/** A new client key pair. */
export interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Generates a key pair: `OSP` + 17 random upper-case alphanumerics, and 30 random bytes in base64. */
export const generateKeyPair = (random: RandomBytes = randomBytes): KeyPair => ({
  accessKeyId:
    ACCESS_KEY_PREFIX + randomAlphanumeric(ACCESS_KEY_LENGTH - ACCESS_KEY_PREFIX.length, random),
  secretAccessKey: Buffer.from(random((SECRET_KEY_LENGTH * 3) / 4)).toString("base64"),
});
