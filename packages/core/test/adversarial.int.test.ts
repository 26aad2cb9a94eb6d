// Adversarial checks against a real HTTP backend on loopback (the recording backend verifies every
// re-signed request with smithy): what actually arrives on the wire when an attack is mounted.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ValidatorRequest } from "../src/index.ts";
import { signedClientRequest } from "./support/client.ts";
import { createHarness, START, standardConfig, type Harness } from "./support/harness.ts";

describe("adversarial (loopback backend)", () => {
  let h: Harness;
  const asked: Array<{ bucket: string; request: ValidatorRequest }> = [];
  beforeAll(async () => {
    h = await createHarness({
      config: (backend) => ({
        ...standardConfig(backend),
        validator: (_token: string, bucket: string, request: ValidatorRequest) => {
          asked.push({ bucket, request });
          return !(bucket === "logs" && request.operation === "GetObject");
        },
      }),
    });
  });
  afterAll(() => h.close());

  it("delivers dot segments to the backend inside the addressed bucket, unresolved and correctly re-signed", async () => {
    const stored = await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/data/../logs/planted",
        body: Buffer.from("planted"),
        signingDate: START,
      }),
    );
    expect(stored.status, stored.text).toBe(200);
    const received = h.backend.requests.at(-1)!;
    expect(received.verification).toBe("ok");
    expect(received.path).toBe("/data/../logs/planted");
    expect(h.backend.objects.has("data/../logs/planted")).toBe(true);
    expect(h.backend.objects.has("logs/planted")).toBe(false);
  });

  it("regression: a second, unauthorized x-amz-copy-source header arrives at the backend", async () => {
    await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/logs/secret",
        body: Buffer.from("secret"),
        signingDate: START,
      }),
    );
    asked.length = 0;
    const before = h.backend.requests.length;
    // The client signs "a,b" (how the canonical request joins a repeated header) and sends the
    // two values as two headers, which HTTP allows: the signature verifies.
    const signed = await signedClientRequest({
      method: "PUT",
      path: "/data/stolen",
      signingDate: START,
      headers: [["x-amz-copy-source", "/data/planted-public,/logs/secret"]],
    });
    const response = await h.send({
      ...signed,
      headers: signed.headers.flatMap(([name, value]): Array<[string, string]> =>
        name === "x-amz-copy-source"
          ? [
              [name, "/data/planted-public"],
              [name, "/logs/secret"],
            ]
          : [[name, value]],
      ),
    });
    const authorized = asked
      .filter((entry) => entry.request.operation === "GetObject")
      .map((entry) => `/${entry.bucket}/${entry.request.key}`);
    const arrived = h.backend.requests
      .slice(before)
      .flatMap((received) => received.headers.get("x-amz-copy-source") ?? []);
    expect(
      arrived.filter((source) => !authorized.includes(source)),
      `status ${response.status}; authorized ${JSON.stringify(authorized)}`,
    ).toEqual([]);
  });
});
