import { describe, expect, it } from "vitest";
import { EMPTY_SHA256 } from "./constants.ts";
import { SigV4Error } from "./errors.ts";
import { parseAmzDate, parseAuthorization } from "./parse-authorization.ts";
import { presignRequest } from "./presign.ts";
import { signRequest } from "./sign.ts";
import type { RawRequest } from "./types.ts";

const credentials = { accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "tok+en/=" };
const now = Date.UTC(2013, 4, 24, 1, 2, 3);
const base: RawRequest = { method: "GET", path: "/b/k", query: "", headers: [["Host", "h"]] };
const SIG = "a".repeat(64);
const CRED = "AKID/20130524/us-east-1/s3/aws4_request";

const headerRequest = (authorization: string, extra: Array<[string, string]> = []): RawRequest => ({
  ...base,
  headers: [
    ...base.headers,
    ["x-amz-date", "20130524T010203Z"],
    ["x-amz-content-sha256", EMPTY_SHA256],
    ["Authorization", authorization],
    ...extra,
  ],
});

const errorOf = (request: RawRequest): { code: string; message: string } => {
  try {
    parseAuthorization(request);
    return { code: "ok", message: "" };
  } catch (error) {
    if (!SigV4Error.is(error)) throw error;
    return { code: error.code, message: error.message };
  }
};

describe("parseAuthorization: header form", () => {
  it("reads every field of a signed request", () => {
    const signed = signRequest(base, { credentials, region: "eu-west-1", now });
    const parsed = parseAuthorization({ ...base, headers: signed.headers });
    expect(parsed).toEqual({
      kind: "header",
      accessKeyId: "AKID",
      scope: { date: "20130524", region: "eu-west-1", service: "s3" },
      signedHeaders: signed.signedHeaders,
      signature: signed.signature,
      amzDate: "20130524T010203Z",
      sessionToken: "tok+en/=",
      payloadHash: EMPTY_SHA256,
      payloadMode: "sha256",
    });
  });

  it("accepts components in any order, with or without spaces after commas", () => {
    const parsed = parseAuthorization(
      headerRequest(
        `AWS4-HMAC-SHA256 Signature=${SIG},SignedHeaders=host;x-amz-date,Credential=${CRED}`,
      ),
    );
    expect(parsed?.signedHeaders).toEqual(["host", "x-amz-date"]);
    expect(parsed?.signature).toBe(SIG);
  });

  it("maps each x-amz-content-sha256 literal to its payload mode", () => {
    const modes: Array<[string, string]> = [
      ["UNSIGNED-PAYLOAD", "unsigned"],
      ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "streaming-signed"],
      ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "streaming-signed-trailer"],
      ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "streaming-unsigned-trailer"],
      [EMPTY_SHA256.toUpperCase(), "sha256"],
    ];
    for (const [value, mode] of modes) {
      const request: RawRequest = {
        ...base,
        headers: [
          ["x-amz-date", "20130524T010203Z"],
          ["x-amz-content-sha256", value],
          [
            "authorization",
            `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`,
          ],
        ],
      };
      const parsed = parseAuthorization(request);
      expect(parsed?.payloadMode).toBe(mode);
      expect(parsed?.payloadHash).toBe(value);
    }
  });

  it("takes the time from Date when x-amz-date is absent", () => {
    const request: RawRequest = {
      ...base,
      headers: [
        ["Date", "Fri, 24 May 2013 01:02:03 GMT"],
        ["x-amz-content-sha256", EMPTY_SHA256],
        [
          "authorization",
          `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=date;host, Signature=${SIG}`,
        ],
      ],
    };
    expect(parseAuthorization(request)?.amzDate).toBe("20130524T010203Z");
  });

  it("returns undefined for an anonymous request", () => {
    expect(parseAuthorization(base)).toBeUndefined();
    expect(parseAuthorization({ ...base, query: "prefix=X-Amz-&a=%41" })).toBeUndefined();
  });

  const malformed: Array<[string, string, string]> = [
    [
      "an unknown algorithm",
      `AWS4-ECDSA-P256-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    ["a Bearer token", "Bearer abc", "AuthorizationHeaderMalformed"],
    ["an empty value", "", "AuthorizationHeaderMalformed"],
    [
      "a missing Signature",
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "a repeated component",
      `AWS4-HMAC-SHA256 Credential=${CRED}, Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "an unknown component",
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}, Extra=1`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "a component without =",
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "a short credential",
      `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "a wrong terminal",
      `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_reques, SignedHeaders=host, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "a bad scope date",
      `AWS4-HMAC-SHA256 Credential=AKID/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "an empty region",
      `AWS4-HMAC-SHA256 Credential=AKID/20130524//s3/aws4_request, SignedHeaders=host, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "an upper-case signed header",
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=Host, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "a duplicated signed header",
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;host, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "an empty signed header",
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;, Signature=${SIG}`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "a short signature",
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=abc`,
      "AuthorizationHeaderMalformed",
    ],
    [
      "a non-hex signature",
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${"g".repeat(64)}`,
      "AuthorizationHeaderMalformed",
    ],
  ];
  for (const [what, authorization, code] of malformed) {
    it(`rejects ${what} with ${code}`, () => {
      expect(errorOf(headerRequest(authorization)).code).toBe(code);
    });
  }

  it("rejects Signature Version 2 with a message that says so", () => {
    const error = errorOf(headerRequest("AWS AKID:c2lnbmF0dXJl"));
    expect(error.code).toBe("InvalidRequest");
    expect(error.message).toContain("Signature Version 2 is not supported");
  });

  it("rejects two Authorization headers", () => {
    const auth = `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`;
    expect(errorOf(headerRequest(auth, [["authorization", auth]])).code).toBe(
      "AuthorizationHeaderMalformed",
    );
  });

  it("requires a valid date: AccessDenied as S3 answers", () => {
    const auth = `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`;
    const withDate = (headers: Array<[string, string]>): RawRequest => ({
      ...base,
      headers: [...headers, ["x-amz-content-sha256", EMPTY_SHA256], ["authorization", auth]],
    });
    for (const headers of [
      [],
      [["x-amz-date", "2013-05-24T01:02:03Z"]],
      [["x-amz-date", "20130231T010203Z"]],
      [["x-amz-date", "20130524T250203Z"]],
      [
        ["x-amz-date", "20130524T010203Z"],
        ["x-amz-date", "20130524T010203Z"],
      ],
      [["Date", "24 May 2013 01:02:03 GMT"]],
      [["Date", "Fri, 31 Feb 2013 01:02:03 GMT"]],
    ] as Array<Array<[string, string]>>) {
      const error = errorOf(withDate(headers));
      expect(error.code).toBe("AccessDenied");
      expect(error.message).toBe("AWS authentication requires a valid Date or x-amz-date header.");
    }
  });

  it("requires x-amz-content-sha256 (MissingSecurityHeader) with a value S3 knows", () => {
    const auth = `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`;
    const request = (hash?: string): RawRequest => ({
      ...base,
      headers: [
        ["x-amz-date", "20130524T010203Z"],
        ...(hash === undefined
          ? []
          : ([["x-amz-content-sha256", hash]] as Array<[string, string]>)),
        ["authorization", auth],
      ],
    });
    expect(errorOf(request()).code).toBe("MissingSecurityHeader");
    expect(errorOf(request("abc")).code).toBe("InvalidArgument");
    expect(errorOf(request(`${EMPTY_SHA256}0`)).code).toBe("InvalidArgument");
    expect(errorOf(request("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")).code).toBe(
      "InvalidRequest",
    );
    expect(parseAuthorization(request(), { defaultPayloadHash: EMPTY_SHA256 })?.payloadHash).toBe(
      EMPTY_SHA256,
    );
  });
});

describe("parseAuthorization: query form", () => {
  const presigned = presignRequest(base, {
    credentials,
    region: "us-east-1",
    now,
    expiresInSeconds: 3600,
  });
  const queryRequest = (query: string): RawRequest => ({ ...base, query });

  it("reads every field of a presigned request", () => {
    expect(parseAuthorization(queryRequest(presigned.query))).toEqual({
      kind: "query",
      accessKeyId: "AKID",
      scope: { date: "20130524", region: "us-east-1", service: "s3" },
      signedHeaders: ["host"],
      signature: presigned.signature,
      amzDate: "20130524T010203Z",
      expiresInSeconds: 3600,
      sessionToken: "tok+en/=",
      payloadHash: "UNSIGNED-PAYLOAD",
      payloadMode: "unsigned",
    });
  });

  it("takes the payload hash from X-Amz-Content-Sha256 when present", () => {
    const parsed = parseAuthorization(
      queryRequest(`${presigned.query}&X-Amz-Content-Sha256=${EMPTY_SHA256}`),
    );
    expect(parsed?.payloadMode).toBe("sha256");
    expect(parsed?.payloadHash).toBe(EMPTY_SHA256);
  });

  it("recognises parameter names after decoding them", () => {
    const parsed = parseAuthorization(
      queryRequest(presigned.query.replace("X-Amz-Signature", "X%2DAmz-Signature")),
    );
    expect(parsed?.signature).toBe(presigned.signature);
  });

  const replaceParam = (name: string, value: string) =>
    presigned.query.replace(new RegExp(`${name}=[^&]*`), `${name}=${value}`);
  const cases: Array<[string, string]> = [
    ["an unknown algorithm", replaceParam("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256")],
    ["a missing X-Amz-Date", presigned.query.replace(/X-Amz-Date=[^&]*&/, "")],
    ["a missing X-Amz-Expires", presigned.query.replace(/X-Amz-Expires=[^&]*&/, "")],
    ["a missing X-Amz-SignedHeaders", presigned.query.replace(/X-Amz-SignedHeaders=[^&]*&/, "")],
    ["a zero expiry", replaceParam("X-Amz-Expires", "0")],
    ["an expiry over 7 days", replaceParam("X-Amz-Expires", "604801")],
    ["a negative expiry", replaceParam("X-Amz-Expires", "-5")],
    ["a fractional expiry", replaceParam("X-Amz-Expires", "1.5")],
    ["a bad X-Amz-Date", replaceParam("X-Amz-Date", "20130524")],
    ["a bad credential", replaceParam("X-Amz-Credential", "AKID%2F20130524%2Fus-east-1%2Fs3")],
    ["a bad signature", replaceParam("X-Amz-Signature", "zz")],
    ["a repeated parameter", `${presigned.query}&X-Amz-Date=20130524T010203Z`],
    ["a bad X-Amz-Content-Sha256", `${presigned.query}&X-Amz-Content-Sha256=nope`],
    ["a credential that is not UTF-8", replaceParam("X-Amz-Credential", "%FF")],
  ];
  for (const [what, query] of cases) {
    it(`rejects ${what} with AuthorizationQueryParametersError`, () => {
      expect(errorOf(queryRequest(query)).code).toBe("AuthorizationQueryParametersError");
    });
  }

  it("rejects a request carrying both an Authorization header and presign parameters", () => {
    const request: RawRequest = {
      ...queryRequest(presigned.query),
      headers: [
        ...base.headers,
        [
          "Authorization",
          `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`,
        ],
      ],
    };
    const error = errorOf(request);
    expect(error.code).toBe("InvalidRequest");
    expect(error.message).toContain("Only one auth mechanism allowed");
  });

  it("rejects a Signature Version 2 presigned URL", () => {
    const error = errorOf(queryRequest("AWSAccessKeyId=AKID&Expires=1369353600&Signature=abc%3D"));
    expect(error.code).toBe("InvalidRequest");
    expect(error.message).toContain("Signature Version 2");
  });

  it("rejects an invalid percent-escape in the query with a typed error", () => {
    expect(errorOf(queryRequest(`${presigned.query}&bad=%zz`)).code).toBe("InvalidRequest");
  });
});

describe("parseAuthorization: memoised parts", () => {
  const auth = (credential: string, signed: string) =>
    headerRequest(
      `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signed}, Signature=${SIG}`,
    );

  it("hands out copies: mutating one result never changes the next", () => {
    const first = parseAuthorization(auth(CRED, "host;x-amz-date"))!;
    first.signedHeaders.push("x-amz-acl");
    expect(() => {
      (first.scope as { region: string }).region = "evil";
    }).toThrow(TypeError);
    const second = parseAuthorization(auth(CRED, "host;x-amz-date"))!;
    expect(second.signedHeaders).toEqual(["host", "x-amz-date"]);
    expect(second.scope.region).toBe("us-east-1");
  });

  it("stays correct past its bound, for valid and invalid values alike", () => {
    for (let index = 0; index < 600; index++) {
      const region = `region-${index}`;
      const parsed = parseAuthorization(
        auth(`AKID/20130524/${region}/s3/aws4_request`, `host;h${index}`),
      );
      expect(parsed?.scope.region).toBe(region);
      expect(parsed?.signedHeaders).toEqual(["host", `h${index}`]);
      expect(errorOf(auth(`AKID/20130524/${region}/s3/aws4_reques`, "host")).code).toBe(
        "AuthorizationHeaderMalformed",
      );
    }
  });
});

describe("parseAmzDate", () => {
  it("reads valid timestamps, including leap days and years before 100", () => {
    expect(parseAmzDate("19700101T000000Z")).toBe(0);
    expect(parseAmzDate("20240229T235959Z")).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(new Date(parseAmzDate("00990101T000000Z")!).toISOString()).toBe(
      "0099-01-01T00:00:00.000Z",
    );
    expect(parseAmzDate("99991231T235959Z")).toBe(Date.UTC(9999, 11, 31, 23, 59, 59));
  });
  it("refuses impossible dates and other formats", () => {
    for (const text of [
      "20230229T000000Z",
      "20130431T000000Z",
      "20131301T000000Z",
      "20130100T000000Z",
      "20130101T240000Z",
      "20130101T006000Z",
      "20130101T000060Z",
      "20130101 000000Z",
      "20130101T000000",
      "2013010T1000000Z",
      "2013-01-01T00:00:00Z",
      "",
    ]) {
      expect(parseAmzDate(text)).toBeUndefined();
    }
  });
});
