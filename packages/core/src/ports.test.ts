import { describe, expect, it } from "vitest";
import { toAbortSignal, type AbortSignalLike } from "./ports.ts";

/** A minimal AbortSignalLike, as a server may pass instead of an AbortSignal. */
const liteSignal = () => {
  const listeners: Array<() => void> = [];
  const signal = {
    aborted: false,
    reason: undefined as unknown,
    addEventListener: (_type: "abort", listener: () => void) => void listeners.push(listener),
    removeEventListener: () => undefined,
    abort(reason: unknown) {
      signal.aborted = true;
      signal.reason = reason;
      for (const listener of listeners) listener();
    },
  };
  return signal satisfies AbortSignalLike;
};

describe("toAbortSignal", () => {
  it("returns an AbortSignal as it is", () => {
    const { signal } = new AbortController();
    expect(toAbortSignal(signal)).toBe(signal);
  });

  it("makes a real AbortSignal that follows a lighter signal, with its reason", () => {
    const lite = liteSignal();
    const signal = toAbortSignal(lite);
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal.aborted).toBe(false);
    const reason = new Error("client gone");
    lite.abort(reason);
    expect([signal.aborted, signal.reason]).toEqual([true, reason]);
  });

  it("is aborted at once when the lighter signal already was", () => {
    const lite = liteSignal();
    lite.abort("early");
    const signal = toAbortSignal(lite);
    expect([signal.aborted, signal.reason]).toEqual([true, "early"]);
  });
});
