import { afterEach, describe, expect, it } from "vitest";
import {
  attachRequestCountSource,
  disableRequestCounting,
  enableRequestCounting,
  getRequestCount,
  isRequestCountingEnabled,
  resetRequestCount,
  type RequestCountSource,
} from "./request-counting.ts";

const fakeSource = (): RequestCountSource & { enabled: boolean; count: number } => {
  const source = {
    enabled: false,
    count: 0,
    enable: () => void (source.enabled = true),
    disable: () => void (source.enabled = false),
    get: () => source.count,
    reset: () => void (source.count = 0),
  };
  return source;
};

describe("request counting", () => {
  const detachers: Array<() => void> = [];
  afterEach(() => {
    for (const detach of detachers.splice(0)) detach();
    disableRequestCounting();
    resetRequestCount();
  });

  it("sums every attached source", () => {
    const a = fakeSource();
    const b = fakeSource();
    detachers.push(attachRequestCountSource(a), attachRequestCountSource(b));
    a.count = 3;
    b.count = 4;
    expect(getRequestCount()).toBe(7);
  });

  it("switches every source on and off, including ones attached later", () => {
    const a = fakeSource();
    detachers.push(attachRequestCountSource(a));
    enableRequestCounting();
    expect(isRequestCountingEnabled()).toBe(true);
    expect(a.enabled).toBe(true);
    const b = fakeSource();
    detachers.push(attachRequestCountSource(b));
    expect(b.enabled).toBe(true);
    disableRequestCounting();
    expect([a.enabled, b.enabled]).toEqual([false, false]);
  });

  it("keeps the count of a detached source until reset", () => {
    const a = fakeSource();
    const detach = attachRequestCountSource(a);
    a.count = 5;
    detach();
    expect(getRequestCount()).toBe(5);
    resetRequestCount();
    expect(getRequestCount()).toBe(0);
  });

  it("resets every source", () => {
    const a = fakeSource();
    detachers.push(attachRequestCountSource(a));
    a.count = 2;
    resetRequestCount();
    expect(a.count).toBe(0);
  });
});
