import { describe, expect, it } from "vitest";
import { LightAbortSignal } from "./abort.ts";

describe("LightAbortSignal", () => {
  it("calls each listener once with the reason set, and only the first abort counts", () => {
    const signal = new LightAbortSignal();
    const seen: unknown[] = [];
    signal.addEventListener("abort", () => seen.push(signal.reason));
    signal.addEventListener("abort", () => seen.push("second"));
    expect(signal.aborted).toBe(false);
    const reason = new Error("gone");
    signal.abort(reason);
    signal.abort(new Error("later"));
    expect([signal.aborted, signal.reason, seen]).toEqual([true, reason, [reason, "second"]]);
  });

  it("does not call removed listeners or listeners added after the abort", () => {
    const signal = new LightAbortSignal();
    const calls: string[] = [];
    const removed = () => calls.push("removed");
    signal.addEventListener("abort", removed);
    signal.removeEventListener("abort", removed);
    const neverAdded = () => calls.push("never added");
    signal.removeEventListener("abort", neverAdded);
    signal.abort();
    signal.addEventListener("abort", () => calls.push("late"));
    expect(calls).toEqual([]);
    expect(signal.reason).toBeInstanceOf(Error);
  });

  it("runs every listener even when one throws (the upstream abort must still happen)", () => {
    const signal = new LightAbortSignal();
    const calls: string[] = [];
    signal.addEventListener("abort", () => {
      throw new Error("broken listener");
    });
    signal.addEventListener("abort", () => calls.push("upstream aborted"));
    expect(() => signal.abort()).not.toThrow();
    expect(calls).toEqual(["upstream aborted"]);
  });
});
