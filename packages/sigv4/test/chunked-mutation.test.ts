// Tampering, truncation and re-splitting of aws-chunked bodies: a changed byte never decodes to a
// success (except a harmless case change where the format is case-insensitive), a truncated body
// always fails with IncompleteBody, and the split of the input never changes the output.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChunkDecoderOptions } from "../src/chunked.ts";
import { createChecksum } from "../src/checksums.ts";
import { nodeCryptoProvider } from "../src/node.ts";
import {
  buildSignedStream,
  buildUnsignedStream,
  bytesOf,
  concat,
  decodeWire,
  flipBits,
  payload,
  testContext,
  textOf,
} from "./chunked-fixtures.ts";

type Label =
  | "size"
  | "extension"
  | "signature"
  | "crlf"
  | "data"
  | "trailer-name"
  | "colon"
  | "trailer-value"
  | "trailer-signature";

interface Labelled {
  wire: Uint8Array;
  labels: Label[];
}

const labelled = (segments: Array<[Label, string | Uint8Array]>): Labelled => {
  const pieces: Uint8Array[] = [];
  const labels: Label[] = [];
  for (const [label, content] of segments) {
    const bytes = typeof content === "string" ? bytesOf(content) : content;
    pieces.push(bytes);
    for (let i = 0; i < bytes.length; i++) labels.push(label);
  }
  return { wire: concat(pieces), labels };
};

const context = testContext("d".repeat(64));
const data = payload(65);
const chunks = [data.subarray(0, 40), data.subarray(40)];
const crc32cOf = (bytes: Uint8Array): string => {
  const checksum = createChecksum("crc32c");
  checksum.update(bytes);
  return checksum.digestBase64();
};

const signedSegments = (signatures: string[]): Array<[Label, string | Uint8Array]> => {
  const segments: Array<[Label, string | Uint8Array]> = [];
  [...chunks, new Uint8Array(0)].forEach((chunk, index) => {
    segments.push(["size", chunk.length.toString(16)], ["extension", ";chunk-signature="]);
    segments.push(["signature", signatures[index]!], ["crlf", "\r\n"]);
    if (chunk.length > 0) segments.push(["data", chunk], ["crlf", "\r\n"]);
  });
  return segments;
};

const checksumTrailer: [string, string] = ["x-amz-checksum-crc32c", crc32cOf(data)];

const signedStream = (() => {
  const built = buildSignedStream(context, chunks);
  return {
    ...labelled([...signedSegments(built.signatures), ["crlf", "\r\n"]]),
    reference: built.wire,
  };
})();

const signedTrailerStream = (() => {
  const built = buildSignedStream(context, chunks, [checksumTrailer]);
  return {
    ...labelled([
      ...signedSegments(built.signatures),
      ["trailer-name", checksumTrailer[0]],
      ["colon", ":"],
      ["trailer-value", checksumTrailer[1]],
      ["crlf", "\r\n"],
      ["trailer-name", "x-amz-trailer-signature"],
      ["colon", ":"],
      ["trailer-signature", built.trailerSignature!],
      ["crlf", "\r\n"],
      ["crlf", "\r\n"],
    ]),
    reference: built.wire,
  };
})();

const unsignedStream = (() => {
  const segments: Array<[Label, string | Uint8Array]> = [];
  for (const chunk of chunks)
    segments.push(
      ["size", chunk.length.toString(16)],
      ["crlf", "\r\n"],
      ["data", chunk],
      ["crlf", "\r\n"],
    );
  segments.push(
    ["size", "0"],
    ["crlf", "\r\n"],
    ["trailer-name", checksumTrailer[0]],
    ["colon", ":"],
  );
  segments.push(["trailer-value", checksumTrailer[1]], ["crlf", "\r\n"], ["crlf", "\r\n"]);
  return { ...labelled(segments), reference: buildUnsignedStream(chunks, [checksumTrailer]) };
})();

const declared = [checksumTrailer[0]];
const cases: Array<{
  name: string;
  stream: Labelled & { reference: Uint8Array };
  options: ChunkDecoderOptions;
  expected: { readonly [L in Label]: ReadonlyArray<string> };
}> = [
  {
    name: "streaming-signed",
    stream: signedStream,
    options: { mode: "streaming-signed", signing: context, crypto: nodeCryptoProvider },
    expected: {
      size: ["InvalidRequest", "SignatureDoesNotMatch", "IncompleteBody"],
      extension: ["InvalidRequest"],
      signature: ["SignatureDoesNotMatch"],
      // A damaged LF merges the next bytes into the chunk-signature value, which then mismatches.
      crlf: ["InvalidRequest", "IncompleteBody", "SignatureDoesNotMatch"],
      data: ["SignatureDoesNotMatch"],
      "trailer-name": [],
      colon: [],
      "trailer-value": [],
      "trailer-signature": [],
    },
  },
  {
    name: "streaming-signed-trailer",
    stream: signedTrailerStream,
    options: {
      mode: "streaming-signed-trailer",
      signing: context,
      declaredTrailers: declared,
      crypto: nodeCryptoProvider,
    },
    expected: {
      size: ["InvalidRequest", "SignatureDoesNotMatch", "IncompleteBody"],
      extension: ["InvalidRequest"],
      signature: ["SignatureDoesNotMatch"],
      // A damaged LF merges the next bytes into the chunk-signature value, which then mismatches.
      crlf: ["InvalidRequest", "IncompleteBody", "SignatureDoesNotMatch"],
      data: ["SignatureDoesNotMatch"],
      "trailer-name": ["InvalidRequest", "SignatureDoesNotMatch"],
      colon: ["InvalidRequest"],
      "trailer-value": ["SignatureDoesNotMatch", "InvalidRequest"],
      "trailer-signature": ["SignatureDoesNotMatch", "InvalidRequest"],
    },
  },
  {
    name: "streaming-unsigned-trailer",
    stream: unsignedStream,
    options: { mode: "streaming-unsigned-trailer", declaredTrailers: declared },
    expected: {
      size: ["InvalidRequest", "BadDigest", "IncompleteBody"],
      extension: [],
      signature: [],
      crlf: ["InvalidRequest", "IncompleteBody"],
      data: ["BadDigest"],
      "trailer-name": ["InvalidRequest"],
      colon: ["InvalidRequest"],
      "trailer-value": ["BadDigest", "InvalidRequest"],
      "trailer-signature": [],
    },
  },
];

const isLetter = (byte: number): boolean => (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a;

describe.each(cases)("$name body", ({ stream, options, expected }) => {
  it("is laid out as the independent builder lays it out, and decodes", () => {
    expect(textOf(stream.wire)).toBe(textOf(stream.reference));
    const outcome = decodeWire(options, stream.wire);
    expect(outcome.ok && outcome.data).toEqual(data);
  });

  it("rejects every single-bit flip of every byte with the code of the part it hit", () => {
    const seen = new Map<string, number>();
    for (let position = 0; position < stream.wire.length; position++) {
      const label = stream.labels[position]!;
      for (let bit = 0; bit < 8; bit++) {
        const mutated = stream.wire.slice();
        flipBits(mutated, position, 1 << bit);
        const outcome = decodeWire(options, mutated);
        // Hex sizes and trailer names are case-insensitive: a pure case change is the same body.
        const harmless =
          bit === 5 &&
          isLetter(stream.wire[position]!) &&
          (label === "size" || label === "trailer-name");
        if (outcome.ok) {
          expect({ position, label, bit, harmless }).toEqual({
            position,
            label,
            bit,
            harmless: true,
          });
          expect(outcome.data).toEqual(data);
          continue;
        }
        expect({
          position,
          label,
          code: outcome.code,
          allowed: expected[label].includes(outcome.code),
        }).toEqual({
          position,
          label,
          code: outcome.code,
          allowed: true,
        });
        seen.set(`${label}:${outcome.code}`, (seen.get(`${label}:${outcome.code}`) ?? 0) + 1);
      }
    }
    // Tampered payload always surfaces as the integrity failure, never as a framing error.
    const dataCodes = [...seen.keys()].filter((key) => key.startsWith("data:"));
    expect(dataCodes).toEqual([`data:${expected.data[0]}`]);
  });

  it("fails with IncompleteBody when truncated at any position", () => {
    for (let length = 0; length < stream.wire.length; length++) {
      const outcome = decodeWire(options, stream.wire.subarray(0, length));
      expect({ length, outcome: outcome.ok ? "ok" : outcome.code }).toEqual({
        length,
        outcome: "IncompleteBody",
      });
    }
  });

  it("gives the same bytes and result for any split of the input", () => {
    const whole = decodeWire(options, stream.wire);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: stream.wire.length - 1 }), { maxLength: 40 }),
        (cuts) => {
          const outcome = decodeWire(
            options,
            stream.wire,
            [...cuts].sort((a, b) => a - b),
          );
          expect(outcome).toEqual(whole);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("chunk chain", () => {
  const chunkStart = /(?<=\n)(?=[0-9a-f]+;chunk-signature=)/;
  const options: ChunkDecoderOptions = {
    mode: "streaming-signed",
    signing: context,
    crypto: nodeCryptoProvider,
  };
  const three = [payload(30, 1), payload(31, 2), payload(32, 3)];
  const wireOf = (parts: Uint8Array[]) => buildSignedStream(context, parts).wire;

  it("rejects reordered chunks even with each chunk's own signature", () => {
    const text = textOf(wireOf(three));
    const pieces = text.split(chunkStart);
    expect(pieces).toHaveLength(4);
    const swapped = [pieces[1]!, pieces[0]!, pieces[2]!, pieces[3]!].join("");
    expect(decodeWire(options, bytesOf(swapped))).toMatchObject({
      ok: false,
      code: "SignatureDoesNotMatch",
    });
  });

  it("rejects a dropped chunk", () => {
    const pieces = textOf(wireOf(three)).split(chunkStart);
    const dropped = [pieces[0]!, pieces[2]!, pieces[3]!].join("");
    expect(decodeWire(options, bytesOf(dropped))).toMatchObject({
      ok: false,
      code: "SignatureDoesNotMatch",
      releasedBytes: 0,
    });
  });

  it("rejects a chunk spliced in from a stream with another seed", () => {
    const other = textOf(buildSignedStream(testContext("e".repeat(64)), three).wire).split(
      chunkStart,
    );
    const own = textOf(wireOf(three)).split(chunkStart);
    const spliced = [own[0]!, other[1]!, own[2]!, own[3]!].join("");
    expect(decodeWire(options, bytesOf(spliced))).toMatchObject({
      ok: false,
      code: "SignatureDoesNotMatch",
    });
  });

  it("releases the chunks before a tampered one and nothing after it", () => {
    const wire = wireOf(three);
    const text = textOf(wire);
    const secondDataStart = text.indexOf("\r\n", text.indexOf("1f;")) + 2;
    const tampered = wire.slice();
    flipBits(tampered, secondDataStart + 3, 0xff);
    const outcome = decodeWire(options, tampered, [secondDataStart - 5]);
    expect(outcome).toMatchObject({ ok: false, code: "SignatureDoesNotMatch", releasedBytes: 30 });
  });
});

describe("arbitrary input", () => {
  it("never throws anything but a SigV4Error, and a success always yields the original payload", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        fc.nat(),
        fc.uint8Array({ maxLength: 40 }),
        fc.nat(50),
        (testCase, at, inserted, deleted) => {
          const wire = testCase.stream.wire;
          const position = at % (wire.length + 1);
          const mutated = concat([
            wire.subarray(0, position),
            inserted,
            wire.subarray(Math.min(wire.length, position + deleted)),
          ]);
          // decodeWire rethrows anything that is not a SigV4Error, which fails the property.
          const outcome = decodeWire(testCase.options, mutated);
          if (outcome.ok) expect(outcome.data).toEqual(data);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("rejects random bytes with a SigV4Error in every mode", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        fc.uint8Array({ maxLength: 600 }),
        (testCase, bytes) => {
          const outcome = decodeWire(testCase.options, bytes);
          expect(outcome.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
