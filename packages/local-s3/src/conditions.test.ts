import { describe, expect, it } from "vitest";
import { etagListMatches, evaluateConditions } from "./conditions.ts";

const object = { etag: '"abc"', lastModifiedMs: Date.UTC(2024, 0, 2, 12, 0, 0, 500) };
const before = new Date(Date.UTC(2024, 0, 1)).toUTCString();
const same = new Date(Date.UTC(2024, 0, 2, 12, 0, 0)).toUTCString();
const after = new Date(Date.UTC(2024, 0, 3)).toUTCString();

describe("etagListMatches", () => {
  it("matches quoted, unquoted, weak, listed and * tags", () => {
    expect(etagListMatches('"abc"', '"abc"')).toBe(true);
    expect(etagListMatches("abc", '"abc"')).toBe(true);
    expect(etagListMatches('W/"abc"', '"abc"')).toBe(true);
    expect(etagListMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagListMatches("*", '"abc"')).toBe(true);
    expect(etagListMatches('"abd"', '"abc"')).toBe(false);
  });
});

describe("evaluateConditions", () => {
  it("proceeds without conditions", () => {
    expect(evaluateConditions({}, object)).toBe("proceed");
  });

  it("fails If-Match on another ETag and If-Unmodified-Since on a newer object", () => {
    expect(evaluateConditions({ ifMatch: '"other"' }, object)).toBe("precondition-failed");
    expect(evaluateConditions({ ifUnmodifiedSince: before }, object)).toBe("precondition-failed");
    expect(evaluateConditions({ ifUnmodifiedSince: same }, object)).toBe("proceed");
  });

  it("lets a matching If-Match override a failing If-Unmodified-Since", () => {
    expect(evaluateConditions({ ifMatch: '"abc"', ifUnmodifiedSince: before }, object)).toBe(
      "proceed",
    );
  });

  it("answers not-modified for a matching If-None-Match or an old If-Modified-Since", () => {
    expect(evaluateConditions({ ifNoneMatch: '"abc"' }, object)).toBe("not-modified");
    expect(evaluateConditions({ ifModifiedSince: same }, object)).toBe("not-modified");
    expect(evaluateConditions({ ifModifiedSince: after }, object)).toBe("not-modified");
    expect(evaluateConditions({ ifModifiedSince: before }, object)).toBe("proceed");
  });

  it("lets a non-matching If-None-Match override If-Modified-Since", () => {
    expect(evaluateConditions({ ifNoneMatch: '"zzz"', ifModifiedSince: after }, object)).toBe(
      "proceed",
    );
  });

  it("ignores unparseable dates", () => {
    expect(evaluateConditions({ ifModifiedSince: "yesterday" }, object)).toBe("proceed");
  });
});
