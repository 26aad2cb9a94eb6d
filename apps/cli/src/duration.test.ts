import { describe, expect, it } from "vitest";
import { durationOption, formatDuration, parseDurationMs } from "./duration.ts";
import { UsageError } from "./exit-codes.ts";

describe("parseDurationMs", () => {
  it("reads plain integers as seconds", () => {
    expect(parseDurationMs("900")).toBe(900_000);
  });

  it("reads unit sums", () => {
    expect(parseDurationMs("1h")).toBe(3_600_000);
    expect(parseDurationMs("7d")).toBe(604_800_000);
    expect(parseDurationMs("1h30m")).toBe(5_400_000);
    expect(parseDurationMs("500ms")).toBe(500);
    expect(parseDurationMs(" 15M ")).toBe(900_000);
  });

  it("rejects anything else", () => {
    for (const text of ["", "1.5h", "-1", "h", "1w", "1 h", "10x"])
      expect(parseDurationMs(text)).toBeUndefined();
  });
});

describe("durationOption", () => {
  it("throws a usage error naming the option", () => {
    expect(() => durationOption("presign", "expires", "soon")).toThrow(UsageError);
    expect(() => durationOption("presign", "expires", "soon")).toThrow(/--expires must be/);
  });
});

describe("formatDuration", () => {
  it("writes the largest units first", () => {
    expect(formatDuration(900_000)).toBe("15m");
    expect(formatDuration(90_061_000)).toBe("1d 1h 1m 1s");
    expect(formatDuration(0)).toBe("0s");
  });
});
