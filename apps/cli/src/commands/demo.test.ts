import { describe, expect, it } from "vitest";
import { createStyle } from "../style.ts";
import { formatLogLine, renderBanner, shellWord } from "./demo.ts";

const plain = createStyle(false);

describe("formatLogLine", () => {
  it("turns an access log line into method, bucket/key, operation, status and duration", () => {
    const line = JSON.stringify({
      level: "info",
      time: "2025-01-31T12:00:00.000Z",
      log: "access",
      method: "GET",
      path: "/demo-bucket/dir/a%20b.txt",
      operation: "GetObject",
      status: 200,
      durationMs: 3.14159,
    });
    const text = formatLogLine(line, plain)!;
    expect(text).toMatch(
      /^\d\d:\d\d:\d\d  GET +demo-bucket\/dir\/a b\.txt +GetObject +200 +3\.1 ms$/,
    );
  });

  it("adds the S3 error code of a failed request", () => {
    const line = JSON.stringify({
      log: "access",
      method: "PUT",
      path: "/b/k",
      operation: "PutObject",
      status: 403,
      durationMs: 1,
      errorCode: "AccessDenied",
    });
    expect(formatLogLine(line, plain)).toMatch(/PutObject +403 +1\.0 ms AccessDenied$/);
  });

  it("shows warnings and hides other lines", () => {
    expect(
      formatLogLine(JSON.stringify({ level: "warn", msg: "backend exchange failed" }), plain),
    ).toMatch(/warn: backend exchange failed$/);
    expect(
      formatLogLine(JSON.stringify({ level: "info", log: "server", msg: "listening" }), plain),
    ).toBeUndefined();
    expect(formatLogLine("not json", plain)).toBeUndefined();
  });
});

describe("renderBanner", () => {
  it("prints the one-liner and the profile lines for the key", () => {
    const banner = renderBanner({
      endpoint: "http://127.0.0.1:6190",
      backendUrl: "http://127.0.0.1:40000",
      bucket: "demo-bucket",
      client: { accessKeyId: "OSPAAAAAAAAAAAAAAAAA", secretAccessKey: "se+cr/et" },
      requests: true,
      style: plain,
    });
    expect(banner).toContain(
      "  AWS_ACCESS_KEY_ID=OSPAAAAAAAAAAAAAAAAA AWS_SECRET_ACCESS_KEY=se+cr/et AWS_REGION=us-east-1 aws --endpoint-url http://127.0.0.1:6190 s3 ls s3://demo-bucket/ --recursive --summarize --human-readable\n",
    );
    expect(banner).toContain(
      "[profile osp-demo]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:6190\ns3 =\n    addressing_style = path\n",
    );
    expect(banner).toContain(
      "[osp-demo]\naws_access_key_id = OSPAAAAAAAAAAAAAAAAA\naws_secret_access_key = se+cr/et\n",
    );
    expect(banner.endsWith("Requests (Ctrl-C to stop):\n")).toBe(true);
  });
});

describe("shellWord", () => {
  it("quotes only when needed", () => {
    expect(shellWord("abc+/=")).toBe("abc+/=");
    expect(shellWord("it's $x")).toBe(`'it'\\''s $x'`);
  });
});
