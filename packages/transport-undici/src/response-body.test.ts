import { describe, expect, it } from "vitest";
import { ResponseBody, type FlowController } from "./response-body.ts";

class FakeController implements FlowController {
  paused = false;
  pauses = 0;
  resumes = 0;
  abortedWith: Error | null = null;
  onResume: (() => void) | null = null;
  pause(): void {
    this.paused = true;
    this.pauses += 1;
  }
  resume(): void {
    this.paused = false;
    this.resumes += 1;
    this.onResume?.();
  }
  abort(reason: Error): void {
    this.abortedWith = reason;
  }
}

const bytes = (length: number, fill = 1): Uint8Array => new Uint8Array(length).fill(fill);

describe("ResponseBody", () => {
  it("pauses at the high-water mark and resumes below half of it", async () => {
    const controller = new FakeController();
    const body = new ResponseBody(controller, 100, () => {});
    body.push(bytes(40));
    body.push(bytes(40));
    expect(controller.paused).toBe(false);
    body.push(bytes(40));
    expect(controller.paused).toBe(true);
    expect(body.bufferedBytes).toBe(120);
    const iterator = body[Symbol.asyncIterator]();
    await iterator.next();
    expect(controller.paused).toBe(true); // 80 buffered: still above half
    await iterator.next();
    expect(controller.paused).toBe(false); // 40 buffered
    expect(controller.resumes).toBe(1);
  });

  it("delivers chunks in order, then ends", async () => {
    const controller = new FakeController();
    const body = new ResponseBody(controller, 1024, () => {});
    const received: number[] = [];
    const reading = (async () => {
      for await (const chunk of body) received.push(chunk[0]!);
    })();
    body.push(bytes(1, 1));
    body.push(bytes(1, 2));
    await Promise.resolve();
    body.push(bytes(1, 3));
    body.end();
    await reading;
    expect(received).toEqual([1, 2, 3]);
  });

  it("hands data pushed synchronously by resume() to the waiting reader", async () => {
    const controller = new FakeController();
    const body = new ResponseBody(controller, 10, () => {});
    body.push(bytes(10, 7));
    expect(controller.paused).toBe(true);
    controller.onResume = () => body.push(bytes(3, 9));
    const iterator = body[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.[0]).toBe(7);
    expect((await iterator.next()).value).toEqual(bytes(3, 9));
  });

  it("rejects the pending and every later read after a failure", async () => {
    const controller = new FakeController();
    const body = new ResponseBody(controller, 1024, () => {});
    const iterator = body[Symbol.asyncIterator]();
    body.push(bytes(5));
    await iterator.next();
    const pending = iterator.next();
    const failure = new Error("connection lost");
    body.fail(failure);
    body.end(); // a late end must not turn the failure into a clean end
    await expect(pending).rejects.toBe(failure);
    await expect(iterator.next()).rejects.toBe(failure);
  });

  it("drops buffered data when it fails so a truncated body never looks complete", async () => {
    const controller = new FakeController();
    const body = new ResponseBody(controller, 1024, () => {});
    body.push(bytes(5));
    body.fail(new Error("reset"));
    await expect(body[Symbol.asyncIterator]().next()).rejects.toThrow("reset");
  });

  it("cancels the exchange when the consumer stops early", async () => {
    const controller = new FakeController();
    let cancelled = 0;
    const body = new ResponseBody(controller, 1024, () => (cancelled += 1));
    body.push(bytes(5));
    body.push(bytes(5));
    for await (const chunk of body) {
      expect(chunk.byteLength).toBe(5);
      break;
    }
    expect(cancelled).toBe(1);
    expect(body.bufferedBytes).toBe(0);
    body.push(bytes(5));
    expect(body.bufferedBytes).toBe(0);
  });

  it("does not cancel after a complete read", async () => {
    let cancelled = 0;
    const body = new ResponseBody(new FakeController(), 1024, () => (cancelled += 1));
    body.push(bytes(2));
    body.end();
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    expect(chunks).toHaveLength(1);
    expect(cancelled).toBe(0);
  });

  it("refuses a second iteration", () => {
    const body = new ResponseBody(new FakeController(), 1024, () => {});
    body[Symbol.asyncIterator]();
    expect(() => body[Symbol.asyncIterator]()).toThrow(TypeError);
  });
});
