import { nobleCryptoProvider, type PayloadMode } from "@osp/sigv4";
import { describe, expect, it } from "vitest";
import { collect, pieces, rejectionCode } from "../../test/support/unit.ts";
import { applyHeaderEdits, planBody, type BodyPlanInput } from "./plan.ts";

const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const signing = {
  signingKey: new Uint8Array(32),
  amzDate: "20300101T000000Z",
  scope: { date: "20300101", region: "us-east-1", service: "s3" },
  seedSignature: "0".repeat(64),
};

const input = (mode: PayloadMode, overrides: Partial<BodyPlanInput> = {}): BodyPlanInput => ({
  method: "PUT",
  body: pieces("x"),
  headers: [
    ["Content-Length", "300"],
    ["x-amz-decoded-content-length", "100"],
    ["content-encoding", "aws-chunked,gzip"],
    ["x-amz-trailer", "x-amz-checksum-crc32"],
  ],
  payloadHash: {
    sha256: "a".repeat(64),
    unsigned: "UNSIGNED-PAYLOAD",
    "streaming-signed": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "streaming-signed-trailer": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "streaming-unsigned-trailer": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  }[mode],
  payloadMode: mode,
  chunkSigning: signing,
  backend: "hmac",
  uploadEncodings: "all",
  crypto: nobleCryptoProvider,
  ...overrides,
});

describe("planBody", () => {
  it("passes plain bodies through to HMAC backends with the client's payload hash (the backend checks it)", () => {
    expect(planBody(input("sha256"))).toMatchObject({
      kind: "passthrough",
      payloadHash: "a".repeat(64),
      bodyLengthBytes: 300,
    });
    expect(planBody(input("unsigned"))).toMatchObject({
      kind: "passthrough",
      payloadHash: "UNSIGNED-PAYLOAD",
      bodyLengthBytes: 300,
    });
  });

  it("checks SHA-256 payloads itself for bearer backends", () => {
    expect(planBody(input("sha256", { backend: "bearer" })).kind).toBe("verify-sha256");
    expect(planBody(input("unsigned", { backend: "bearer" })).kind).toBe("passthrough");
  });

  it("sends Content-Length 0 for a PUT without body (CopyObject, D-7)", () => {
    expect(
      planBody(input("sha256", { body: null, headers: [], payloadHash: EMPTY })),
    ).toMatchObject({ kind: "none", bodyLengthBytes: 0 });
    expect(
      planBody(input("sha256", { method: "GET", body: null, headers: [], payloadHash: EMPTY }))
        .bodyLengthBytes,
    ).toBeUndefined();
  });

  it("refuses a bearer request without body whose hash is not the empty hash", () => {
    expect(() => planBody(input("sha256", { body: null, backend: "bearer" }))).toThrow(
      expect.objectContaining({ code: "XAmzContentSHA256Mismatch" }),
    );
  });

  it("passes STREAMING-UNSIGNED-PAYLOAD-TRAILER through to backends that accept every encoding", () => {
    expect(planBody(input("streaming-unsigned-trailer"))).toMatchObject({
      kind: "passthrough",
      payloadHash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      bodyLengthBytes: 300,
    });
  });

  it("translates trailer encodings into signed chunks with a known length for 'signed-chunks' backends", () => {
    const plan = planBody(
      input("streaming-unsigned-trailer", { uploadEncodings: "signed-chunks" }),
    );
    expect(plan).toMatchObject({
      kind: "reencode",
      payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    });
    // 100 payload bytes: "64;chunk-signature=<64>\r\n" + 100 + "\r\n" + "0;chunk-signature=<64>\r\n" + "\r\n"
    expect(plan.bodyLengthBytes).toBe(2 + 83 + 100 + 2 + 1 + 83 + 2);
    const headers = applyHeaderEdits(
      [
        ["content-encoding", "aws-chunked,gzip"],
        ["x-amz-trailer", "x-amz-checksum-crc32"],
        ["x-amz-sdk-checksum-algorithm", "CRC32"],
        ["x-amz-meta-a", "1"],
      ],
      plan,
    );
    expect(headers).toEqual([
      ["x-amz-meta-a", "1"],
      ["content-encoding", "aws-chunked,gzip"],
      ["x-amz-decoded-content-length", "100"],
    ]);
  });

  it("keeps the checksum trailer when re-signing for a backend that accepts trailers", () => {
    const plan = planBody(input("streaming-signed-trailer"));
    expect(plan).toMatchObject({
      kind: "reencode",
      payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    });
    expect(plan.setHeaders).toContainEqual(["x-amz-trailer", "x-amz-checksum-crc32"]);
    const withoutTrailer = planBody(
      input("streaming-signed", { headers: [["x-amz-decoded-content-length", "100"]] }),
    );
    expect(withoutTrailer.payloadHash).toBe("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  });

  it("decodes aws-chunked bodies into plain bodies of the decoded length for bearer backends", () => {
    const plan = planBody(input("streaming-signed", { backend: "bearer" }));
    expect(plan).toMatchObject({ kind: "decode", bodyLengthBytes: 100 });
    expect(
      applyHeaderEdits(
        [
          ["content-encoding", "aws-chunked,gzip"],
          ["x-amz-decoded-content-length", "100"],
          ["x-amz-trailer", "t"],
        ],
        plan,
      ),
    ).toEqual([["content-encoding", "gzip"]]);
  });

  it("needs x-amz-decoded-content-length to re-sign a stream (411 MissingContentLength)", () => {
    expect(() => planBody(input("streaming-signed", { headers: [] }))).toThrow(
      expect.objectContaining({ code: "MissingContentLength" }),
    );
  });

  it("checks an empty decoded body completely before anything is sent", async () => {
    const plan = planBody(
      input("streaming-unsigned-trailer", {
        backend: "bearer",
        headers: [
          ["x-amz-decoded-content-length", "0"],
          ["x-amz-trailer", "x-amz-checksum-crc32"],
        ],
        body: pieces("0\r\nx-amz-checksum-crc32:AAAAAB==\r\n\r\n"),
      }),
    );
    expect(await rejectionCode(Promise.resolve(plan.prepare()))).toBe("BadDigest");
    const good = planBody(
      input("streaming-unsigned-trailer", {
        backend: "bearer",
        headers: [
          ["x-amz-decoded-content-length", "0"],
          ["x-amz-trailer", "x-amz-checksum-crc32"],
        ],
        body: pieces("0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"),
      }),
    );
    expect(await good.prepare()).toBeNull();
  });

  it("needs the upstream signing context to re-encode", async () => {
    expect(
      await rejectionCode(Promise.resolve(planBody(input("streaming-signed")).prepare())),
    ).toBe("InternalError");
    expect(await collect(await planBody(input("unsigned")).prepare())).toEqual(
      new TextEncoder().encode("x"),
    );
  });
});
