import { randomBytes } from "node:crypto";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { describe, expect, it } from "vitest";
import {
  checksumBase64,
  decodeChunks,
  encodeSignedChunks,
  encodeUnsignedChunks,
  signingKey,
} from "../../test/support/aws-chunked.ts";
import { bodyPieces } from "../../test/support/client.ts";
import { collect, rejectionCode } from "../../test/support/unit.ts";
import { decodeToPlain, reencodeSigned } from "./aws-chunked.ts";

const DATE = "20300101";
const AMZ_DATE = "20300101T120000Z";
const scope = { date: DATE, region: "us-east-1", service: "s3" };
const clientKey = signingKey("client-secret", DATE, "us-east-1");
const backendKey = signingKey("backend-secret", DATE, "us-east-1");
const clientSeed = "a".repeat(64);
const backendSeed = "b".repeat(64);
const clientChain = {
  key: clientKey,
  amzDate: AMZ_DATE,
  scope: `${DATE}/us-east-1/s3/aws4_request`,
  seed: clientSeed,
};
const backendChain = {
  key: backendKey,
  amzDate: AMZ_DATE,
  scope: `${DATE}/us-east-1/s3/aws4_request`,
  seed: backendSeed,
};
const clientSigning = {
  signingKey: new Uint8Array(clientKey),
  amzDate: AMZ_DATE,
  scope,
  seedSignature: clientSeed,
};
const backendSigning = {
  signingKey: new Uint8Array(backendKey),
  amzDate: AMZ_DATE,
  scope,
  seedSignature: backendSeed,
};

describe("decodeToPlain", () => {
  it("decodes a signed stream split at arbitrary boundaries", async () => {
    const data = randomBytes(70_000);
    const wire = encodeSignedChunks(data, clientChain, { chunkBytes: 8192 });
    const out = await collect(
      decodeToPlain(bodyPieces(wire, 777), {
        mode: "streaming-signed",
        signing: clientSigning,
        decodedContentLength: data.length,
        crypto: nodeCryptoProvider,
      }),
    );
    expect(Buffer.from(out).equals(data)).toBe(true);
  });

  it("D-9: refuses a tampered chunk and never releases the tail", async () => {
    const data = randomBytes(40_000);
    const wire = encodeSignedChunks(data, clientChain, {
      chunkBytes: 8192,
      tamper: (frames) => void (frames[4] = Buffer.from(frames[4]!).fill(0)),
    });
    let released = 0;
    const run = async () => {
      for await (const piece of decodeToPlain(bodyPieces(wire, 4096), {
        mode: "streaming-signed",
        signing: clientSigning,
        crypto: nodeCryptoProvider,
      }))
        released += piece.byteLength;
    };
    expect(await rejectionCode(run())).toBe("SignatureDoesNotMatch");
    expect(released).toBeLessThan(data.length);
  });

  it("checks the checksum trailer of an unsigned stream before releasing the last piece", async () => {
    const data = randomBytes(20_000);
    const wire = encodeUnsignedChunks(
      data,
      [["x-amz-checksum-crc32", checksumBase64("crc32", Buffer.from("other"))]],
      8192,
    );
    let released = 0;
    const run = async () => {
      for await (const piece of decodeToPlain(bodyPieces(wire, 5000), {
        mode: "streaming-unsigned-trailer",
        declaredTrailers: ["x-amz-checksum-crc32"],
        crypto: nodeCryptoProvider,
      }))
        released += piece.byteLength;
    };
    expect(await rejectionCode(run())).toBe("BadDigest");
    expect(released).toBeLessThan(data.length);
  });

  it("refuses a truncated stream with IncompleteBody", async () => {
    const data = randomBytes(20_000);
    const wire = encodeSignedChunks(data, clientChain, { chunkBytes: 8192 });
    const run = collect(
      decodeToPlain(bodyPieces(wire.subarray(0, wire.length - 50)), {
        mode: "streaming-signed",
        signing: clientSigning,
        crypto: nodeCryptoProvider,
      }),
    );
    expect(await rejectionCode(run)).toBe("IncompleteBody");
  });
});

describe("reencodeSigned", () => {
  it("re-signs a client stream chunk by chunk for the backend key (≥ 8 KiB chunks, exact payload)", async () => {
    const data = randomBytes(150_001);
    const wire = encodeSignedChunks(data, clientChain, { chunkBytes: 10_000 });
    const out = await collect(
      reencodeSigned(bodyPieces(wire, 3000), {
        decoder: {
          mode: "streaming-signed",
          signing: clientSigning,
          decodedContentLength: data.length,
          crypto: nodeCryptoProvider,
        },
        signing: backendSigning,
        chunkSizeBytes: 65_536,
        crypto: nodeCryptoProvider,
      }),
    );
    const decoded = decodeChunks(Buffer.from(out), backendChain);
    expect(decoded.data.equals(data)).toBe(true);
    expect(decoded.chunkSizes).toEqual([65_536, 65_536, 150_001 - 131_072, 0]);
  });

  it("forwards a verified checksum trailer under a new trailer signature", async () => {
    const data = randomBytes(9000);
    const trailers = [["x-amz-checksum-crc32", checksumBase64("crc32", data)]] as const;
    const wire = encodeSignedChunks(data, clientChain, { trailers });
    const out = await collect(
      reencodeSigned(bodyPieces(wire), {
        decoder: {
          mode: "streaming-signed-trailer",
          signing: clientSigning,
          declaredTrailers: ["x-amz-checksum-crc32"],
          crypto: nodeCryptoProvider,
        },
        signing: backendSigning,
        chunkSizeBytes: 65_536,
        forwardTrailers: ["x-amz-checksum-crc32"],
        crypto: nodeCryptoProvider,
      }),
    );
    expect(decodeChunks(Buffer.from(out), backendChain).trailers).toEqual([
      ["x-amz-checksum-crc32", trailers[0][1]],
    ]);
  });

  it("never emits the final chunk of a stream that failed verification", async () => {
    const data = randomBytes(9000);
    const flipFinalSignature = (frames: Buffer[]) => {
      const last = Buffer.from(frames[frames.length - 1]!);
      const at = last.indexOf("chunk-signature=") + "chunk-signature=".length;
      last[at] = last[at] === 0x30 ? 0x31 : 0x30;
      frames[frames.length - 1] = last;
    };
    const wire = encodeSignedChunks(data, clientChain, { tamper: flipFinalSignature });
    const emitted: Buffer[] = [];
    const run = async () => {
      for await (const piece of reencodeSigned(bodyPieces(wire), {
        decoder: { mode: "streaming-signed", signing: clientSigning, crypto: nodeCryptoProvider },
        signing: backendSigning,
        chunkSizeBytes: 65_536,
        crypto: nodeCryptoProvider,
      }))
        emitted.push(Buffer.from(piece));
    };
    expect(await rejectionCode(run())).toBe("SignatureDoesNotMatch");
    expect(Buffer.concat(emitted).toString("latin1")).not.toContain("0;chunk-signature=");
  });
});
