import { describe, expect, it } from "vitest";
import { collect, pieces } from "../../test/support/unit.ts";
import { countBytes, discardBody, drain, holdBackUntil } from "./streams.ts";

describe("holdBackUntil", () => {
  it("releases everything once the check passes", async () => {
    expect(
      new TextDecoder().decode(
        await collect(holdBackUntil(pieces("ab", "", "cd", "e"), () => undefined)),
      ),
    ).toBe("abcde");
  });

  it("never releases the last piece when the check fails", async () => {
    const released: string[] = [];
    const run = async () => {
      for await (const piece of holdBackUntil(pieces("ab", "cd", "ef"), () => {
        throw new Error("mismatch");
      })) {
        released.push(new TextDecoder().decode(piece));
      }
    };
    await expect(run()).rejects.toThrow("mismatch");
    expect(released).toEqual(["ab", "cd"]);
  });

  it("holds the only piece of a one-piece body (nothing reaches the receiver before the check)", async () => {
    const released: Uint8Array[] = [];
    const run = async () => {
      for await (const piece of holdBackUntil(pieces("whole"), async () =>
        Promise.reject(new Error("bad")),
      ))
        released.push(piece);
    };
    await expect(run()).rejects.toThrow("bad");
    expect(released).toEqual([]);
  });
});

describe("stream helpers", () => {
  it("counts bytes as they pass", async () => {
    let total = 0;
    await drain(countBytes(pieces("abc", "de"), (n) => (total += n)));
    expect(total).toBe(5);
  });

  it("discards a body by closing its iterator, and tolerates null and failures", async () => {
    let closed = false;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: new Uint8Array(1) }),
        return: async () => {
          closed = true;
          throw new Error("already broken");
        },
      }),
    };
    await discardBody(body);
    await discardBody(null);
    expect(closed).toBe(true);
  });
});
