// What the proxy tells its observer, and what it never tells anyone (§6 D-26): no secret, API
// key, bearer token or signature in any event, warning or error body.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PhaseEvent, RequestEvent } from "../src/index.ts";
import { presignedClientRequest, signedClientRequest } from "./support/client.ts";
import {
  BACKEND_KEYS,
  createHarness,
  START,
  standardConfig,
  type Harness,
} from "./support/harness.ts";
import { recordingObserver } from "./support/unit.ts";

describe("observer", () => {
  let h: Harness;
  const recorder = recordingObserver();
  const events = recorder.events;
  let validatorMode: "allow" | "throw" = "allow";
  beforeAll(async () => {
    h = await createHarness({
      config: (backend) => ({
        ...standardConfig(backend),
        cosMap: {
          ...standardConfig(backend).cosMap,
          fetched: { host: "127.0.0.1", port: backend.port, tls: false, addressingStyle: "path" },
        },
        validator: () => {
          if (validatorMode === "throw")
            throw new Error(`validator crashed with ${BACKEND_KEYS.BACKENDKEY}`);
          return true;
        },
        bucketCredsFetcher: () => `{"access_key":"AK","secret_key":"${BACKEND_KEYS.OTHERKEY}"`,
      }),
      deps: { observer: recorder.observer },
    });
  });
  afterAll(() => h.close());

  it("reports phases in pipeline order, the authorization decision and one request event", async () => {
    events.length = 0;
    await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/data/observed.txt",
        body: Buffer.from("12345"),
        signingDate: START,
        remoteAddress: "192.0.2.1",
      }),
    );
    const phases = recorder.of<PhaseEvent>("phase").map((event) => event.phase);
    expect(phases).toEqual([
      "parse",
      "authenticate",
      "authorize",
      "credentials",
      "sign",
      "upstream",
    ]);
    expect(recorder.of("authorization")).toEqual([
      {
        requestId: "REQ0000000000001",
        accessKeyId: "CLIENTKEY",
        bucket: "data",
        operation: "PutObject",
        method: "PUT",
        allowed: true,
        cached: false,
        remoteAddress: "192.0.2.1",
      },
    ]);
    const requests = recorder.of<RequestEvent>("request");
    expect(requests).toEqual([
      {
        requestId: "REQ0000000000001",
        method: "PUT",
        operation: "PutObject",
        bucket: "data",
        status: 200,
        durationMs: 0,
        bytesIn: 5,
        bytesOut: 0,
        accessKeyId: "CLIENTKEY",
        remoteAddress: "192.0.2.1",
      },
    ]);
  });

  it("reports failures with their S3 code and a failed phase", async () => {
    events.length = 0;
    await h.send(signedClientRequest({ method: "GET", path: "/nope/x", signingDate: START }));
    expect(recorder.of<PhaseEvent>("phase").map((event) => [event.phase, event.ok])).toEqual([
      ["parse", true],
      ["authenticate", true],
      ["authorize", false],
    ]);
    expect(recorder.of("request")[0]).toMatchObject({
      status: 404,
      errorCode: "NoSuchBucket",
      bucket: "nope",
    });
  });

  it("D-26: no secret, API key, token or signature appears in any event, warning or error body", async () => {
    events.length = 0;
    const bodies: string[] = [];
    const signedRequests = [
      await signedClientRequest({ method: "GET", path: "/data/observed.txt", signingDate: START }),
      await signedClientRequest({
        method: "GET",
        path: "/data/observed.txt",
        signingDate: START,
        credentials: { accessKeyId: "CLIENTKEY", secretAccessKey: "wrong" },
      }),
      await signedClientRequest({
        method: "PUT",
        path: "/ibm/x",
        body: Buffer.from("bearer"),
        signingDate: START,
      }),
      await signedClientRequest({ method: "GET", path: "/fetched/x", signingDate: START }),
      await presignedClientRequest({
        method: "GET",
        path: "/data/observed.txt",
        signingDate: START,
        expiresInSeconds: 60,
      }),
    ];
    for (const request of signedRequests) bodies.push((await h.send(request)).text);
    validatorMode = "throw";
    try {
      // A bucket not asked about yet, so no cached decision hides the failure.
      bodies.push(
        (
          await h.send(
            signedClientRequest({ method: "GET", path: "/logs/observed.txt", signingDate: START }),
          )
        ).text,
      );
    } finally {
      validatorMode = "allow";
    }
    const signatures = signedRequests.flatMap((request) => [
      ...request.headers
        .filter(([name]) => name === "authorization")
        .map(([, value]) => /Signature=([0-9a-f]+)/.exec(value)![1]!),
      ...[...request.query.matchAll(/X-Amz-Signature=([0-9a-f]+)/g)].map((match) => match[1]!),
    ]);
    const secrets = [
      "client/secret+key",
      BACKEND_KEYS.BACKENDKEY,
      BACKEND_KEYS.OTHERKEY,
      "ibm-api-key",
      h.bearer.current(),
      ...signatures,
    ];
    const everything = JSON.stringify(events) + bodies.join("\n");
    expect(signatures).toHaveLength(5);
    for (const secret of secrets) expect(everything, secret).not.toContain(secret);
    // The failures were reported, generically.
    expect(bodies.at(-1)).toContain("<Code>InternalError</Code>");
    expect(bodies[3]).toContain("<Code>InternalError</Code>");
  });

  it("keeps serving when the observer throws", async () => {
    const local = await createHarness({
      deps: {
        observer: {
          phase: () => {
            throw new Error("logger down");
          },
          request: () => {
            throw new Error("metrics down");
          },
        },
      },
    });
    try {
      await local.send(
        signedClientRequest({
          method: "PUT",
          path: "/data/k",
          body: Buffer.from("v"),
          signingDate: START,
        }),
      );
      const response = await local.send(
        signedClientRequest({ method: "GET", path: "/data/k", signingDate: START }),
      );
      expect([response.status, response.text]).toEqual([200, "v"]);
    } finally {
      await local.close();
    }
  });

  it("exposes cache statistics", () => {
    const stats = h.proxy.cacheStats();
    expect(stats.authorization.misses).toBeGreaterThan(0);
    expect(stats.credentials.errors).toBeGreaterThan(0);
    expect(stats.secrets).toMatchObject({ hits: 0, misses: 0 });
  });
});
