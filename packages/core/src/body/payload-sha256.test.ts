import { createHash } from "node:crypto";
import { nobleCryptoProvider } from "@osp/sigv4";
import { describe, expect, it } from "vitest";
import { collect, pieces, rejectionCode } from "../../test/support/unit.ts";
import { verifySha256Payload } from "./payload-sha256.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

describe("verifySha256Payload", () => {
  it("passes a body whose SHA-256 matches (hex in any case)", async () => {
    const out = await collect(
      verifySha256Payload(
        pieces("hello ", "world"),
        sha("hello world").toUpperCase(),
        nobleCryptoProvider,
        11,
      ),
    );
    expect(new TextDecoder().decode(out)).toBe("hello world");
  });

  it("refuses a tampered body with XAmzContentSHA256Mismatch before its last bytes are released", async () => {
    const released: string[] = [];
    const run = async () => {
      for await (const piece of verifySha256Payload(
        pieces("hello ", "WORLD"),
        sha("hello world"),
        nobleCryptoProvider,
      )) {
        released.push(new TextDecoder().decode(piece));
      }
    };
    expect(await rejectionCode(run())).toBe("XAmzContentSHA256Mismatch");
    expect(released).toEqual(["hello "]);
  });

  it("refuses a body shorter than its Content-Length with IncompleteBody", async () => {
    expect(
      await rejectionCode(
        collect(verifySha256Payload(pieces("hel"), sha("hel"), nobleCryptoProvider, 5)),
      ),
    ).toBe("IncompleteBody");
  });
});
