import { describe, expect, it } from "vitest";
import { createRequestId } from "./request-id.ts";

describe("createRequestId", () => {
  it("makes 16 upper-case hex characters", () => {
    expect(createRequestId()).toMatch(/^[0-9A-F]{16}$/);
  });

  it("does not repeat across batches", () => {
    const ids = new Set(Array.from({ length: 5000 }, () => createRequestId()));
    expect(ids.size).toBe(5000);
  });
});
