import { describe, expect, it } from "vitest";
import { RequestSyntaxError, parseRawRequest, requestFromUrl } from "./raw-http.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseRawRequest", () => {
  it("reads the request line, headers and body with CRLF line ends", () => {
    const request = parseRawRequest(
      bytes(
        "PUT /b/k%20x?a=1&b HTTP/1.1\r\nHost: h:1\r\nX-Amz-Date:  20250131T120000Z \r\nContent-Length: 2\r\n\r\nhi",
      ),
    );
    expect(request).toMatchObject({
      method: "PUT",
      path: "/b/k%20x",
      query: "a=1&b",
      headers: [
        ["Host", "h:1"],
        ["X-Amz-Date", "20250131T120000Z"],
        ["Content-Length", "2"],
      ],
      hasBody: true,
    });
    expect(new TextDecoder().decode(request.body)).toBe("hi");
  });

  it("accepts LF line ends and drops an editor's trailing newline beyond Content-Length", () => {
    const request = parseRawRequest(bytes("\nPUT / HTTP/1.1\nhost: h\ncontent-length: 2\n\nhi\n"));
    expect(new TextDecoder().decode(request.body)).toBe("hi");
    expect(request.notes).toEqual([
      "dropped the line break(s) after the body (beyond Content-Length)",
    ]);
  });

  it("takes the host of an absolute-form target when there is no Host header", () => {
    const request = parseRawRequest(bytes("GET http://example.com:8080/b/k?x=1 HTTP/1.1\n\n"));
    expect(request).toMatchObject({
      path: "/b/k",
      query: "x=1",
      headers: [["host", "example.com:8080"]],
      hasBody: false,
    });
  });

  it("joins folded header lines", () => {
    expect(parseRawRequest(bytes("GET / HTTP/1.1\nx-a: one\n  two\n\n")).headers).toEqual([
      ["x-a", "one two"],
    ]);
  });

  it("rejects text that is not a request", () => {
    expect(() => parseRawRequest(bytes("hello\n"))).toThrow(RequestSyntaxError);
    expect(() => parseRawRequest(bytes("GET / HTTP/2\n\n"))).toThrow(/request line/);
    expect(() => parseRawRequest(bytes("GET / HTTP/1.1\nno colon here\n\n"))).toThrow(
      /not a header line/,
    );
  });
});

describe("requestFromUrl", () => {
  it("keeps path and query as written and drops the default port from Host", () => {
    expect(
      requestFromUrl("https://S3.example.com:443/b/a%2Fb?X-Amz-Signature=1#frag", "get"),
    ).toMatchObject({
      method: "GET",
      path: "/b/a%2Fb",
      query: "X-Amz-Signature=1",
      headers: [["host", "s3.example.com"]],
    });
    expect(requestFromUrl("http://127.0.0.1:6190/b", "GET").headers).toEqual([
      ["host", "127.0.0.1:6190"],
    ]);
  });

  it("rejects what is not an http(s) URL", () => {
    expect(() => requestFromUrl("s3://b/k", "GET")).toThrow(RequestSyntaxError);
  });
});
