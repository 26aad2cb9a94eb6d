import { describe, expect, it } from "vitest";
import { ACCESS_KEY_LENGTH, SECRET_KEY_LENGTH, generateKeyPair } from "./keys.ts";

describe("generateKeyPair", () => {
  it("makes AWS-shaped keys with the OSP prefix", () => {
    const pair = generateKeyPair();
    expect(pair.accessKeyId).toHaveLength(ACCESS_KEY_LENGTH);
    expect(pair.accessKeyId).toMatch(/^OSP[A-Z0-9]{17}$/);
    expect(pair.secretAccessKey).toHaveLength(SECRET_KEY_LENGTH);
    expect(pair.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
  });

  it("skips bytes that would bias the alphabet", () => {
    // 252..255 are above the largest multiple of 36: they must be dropped, not folded onto "A".."D".
    let call = 0;
    const random = (size: number): Uint8Array => {
      call += 1;
      return call === 1 ? new Uint8Array(size).fill(255) : new Uint8Array(size).fill(36 + 1);
    };
    expect(generateKeyPair(random).accessKeyId).toBe(`OSP${"B".repeat(17)}`);
  });

  it("encodes 30 random bytes as the secret", () => {
    const bytes = Uint8Array.from({ length: 30 }, (_, index) => index);
    const pair = generateKeyPair((size) => (size === 30 ? bytes : new Uint8Array(size)));
    expect(Buffer.from(pair.secretAccessKey, "base64")).toEqual(Buffer.from(bytes));
  });

  it("does not repeat itself", () => {
    const ids = new Set(Array.from({ length: 200 }, () => generateKeyPair().accessKeyId));
    expect(ids.size).toBe(200);
  });
});
