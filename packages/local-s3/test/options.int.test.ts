// Options of createLocalS3: validation, region, injected clock, debug, buckets, onRequest, close.
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createLocalS3, type LocalS3Options, type LocalS3RequestEvent } from "../src/index.ts";
import {
  CREDENTIALS,
  errorFields,
  expectS3Error,
  makeClient,
  randomBody,
  sendRaw,
  sha256Hex,
  signRaw,
} from "./helpers.ts";

/** Runs `test` against a fresh server and always closes both. */
const withServer = async (
  options: Partial<LocalS3Options>,
  test: (
    server: Awaited<ReturnType<typeof createLocalS3>>,
    client: ReturnType<typeof makeClient>,
  ) => Promise<void>,
  clientOverrides: Parameters<typeof makeClient>[1] = {},
) => {
  const server = await createLocalS3({ credentials: CREDENTIALS, ...options });
  const client = makeClient(server.url, clientOverrides);
  try {
    await test(server, client);
  } finally {
    client.destroy();
    await server.close();
  }
};

describe("createLocalS3 options", () => {
  it.each([
    ["no credentials", { credentials: [] }],
    ["an empty secret", { credentials: [{ accessKeyId: "a", secretAccessKey: "" }] }],
    ["a bad profile", { credentials: CREDENTIALS, profile: "minio" }],
    ["a bad port", { credentials: CREDENTIALS, port: 70_000 }],
    ["a bad storage", { credentials: CREDENTIALS, storage: "disk" }],
  ])("rejects %s with a TypeError", async (_label, options) => {
    await expect(createLocalS3(options as unknown as LocalS3Options)).rejects.toBeInstanceOf(
      TypeError,
    );
  });

  it("rejects an invalid initial bucket name", async () => {
    await expect(
      createLocalS3({ credentials: CREDENTIALS, buckets: ["UPPER"] }),
    ).rejects.toMatchObject({
      code: "InvalidBucketName",
    });
  });

  it("serves another region and checks CreateBucket's LocationConstraint against it", async () => {
    await withServer(
      { region: "eu-west-3", buckets: ["regional"] },
      async (_server, client) => {
        const location = await client.send(new GetBucketLocationCommand({ Bucket: "regional" }));
        expect(location.LocationConstraint).toBe("eu-west-3");
        await client.send(
          new CreateBucketCommand({
            Bucket: "made-here",
            CreateBucketConfiguration: { LocationConstraint: "eu-west-3" },
          }),
        );
        await expectS3Error(
          client.send(
            new CreateBucketCommand({
              Bucket: "made-elsewhere",
              CreateBucketConfiguration: { LocationConstraint: "ap-south-1" },
            }),
          ),
          "IllegalLocationConstraintException",
          400,
        );
      },
      { region: "eu-west-3" },
    );
  });

  it("checks request time against the injected clock", async () => {
    await withServer({ now: () => Date.now() + 60 * 60 * 1000 }, async (_server, client) => {
      await expectS3Error(client.send(new ListBucketsCommand({})), "RequestTimeTooSkewed", 403);
    });
  });

  it("explains SignatureDoesNotMatch with the canonical request when debug is on", async () => {
    await withServer({ debug: true }, async (server) => {
      const signed = signRaw(server.url, {
        method: "GET",
        path: "/",
        payloadHash: sha256Hex(""),
        secretAccessKey: "wrong",
      });
      const response = await sendRaw(server.url, {
        method: "GET",
        path: "/",
        headers: signed.headers,
      });
      expect(response.status).toBe(403);
      expect(errorFields(response.body).Code).toBe("SignatureDoesNotMatch");
      expect(response.body.toString()).toContain("<CanonicalRequest>GET&#xA;/&#xA;");
      expect(response.body.toString()).not.toContain("wrong");
    });
  });

  it("never echoes the canonical request without debug", async () => {
    await withServer({}, async (server) => {
      const signed = signRaw(server.url, {
        method: "GET",
        path: "/",
        payloadHash: sha256Hex(""),
        secretAccessKey: "wrong",
      });
      const response = await sendRaw(server.url, {
        method: "GET",
        path: "/",
        headers: signed.headers,
      });
      expect(response.body.toString()).not.toContain("CanonicalRequest");
    });
  });

  it("survives a throwing onRequest listener and reports aborted requests", async () => {
    const events: LocalS3RequestEvent[] = [];
    await withServer(
      {
        buckets: ["events"],
        onRequest: (event) => {
          events.push(event);
          throw new Error("listener failure");
        },
      },
      async (server, client) => {
        await client.send(new HeadBucketCommand({ Bucket: "events" }));
        await client.send(new HeadBucketCommand({ Bucket: "events" }));
        const path = "/events/abandoned";
        const signed = signRaw(server.url, {
          method: "PUT",
          path,
          headers: [["content-length", "100000"]],
          payloadHash: "UNSIGNED-PAYLOAD",
        });
        await sendRaw(server.url, {
          method: "PUT",
          path,
          headers: signed.headers,
          body: [randomBody(1000)],
          abortAfterBody: true,
        });
        const deadline = Date.now() + 5000;
        while (events.length < 3 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        expect(
          events.slice(0, 2).map((event) => [event.operation, event.status, event.aborted]),
        ).toEqual([
          ["HeadBucket", 200, false],
          ["HeadBucket", 200, false],
        ]);
        expect(events[2]).toMatchObject({ operation: "PutObject", aborted: true, status: 0 });
      },
    );
  });

  it("closes idempotently, frees its port and refuses new connections", async () => {
    const server = await createLocalS3({ credentials: CREDENTIALS, buckets: ["closing"] });
    const client = makeClient(server.url);
    await client.send(new PutObjectCommand({ Bucket: "closing", Key: "k", Body: "x" }));
    await Promise.all([server.close(), server.close()]);
    await expect(client.send(new ListBucketsCommand({}))).rejects.toThrow();
    client.destroy();
    const again = await createLocalS3({ credentials: CREDENTIALS, port: server.port });
    expect(again.port).toBe(server.port);
    await again.close();
  });
});
