import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import {
  adaptRequest,
  hasRequestBody,
  requestHeaderList,
  splitRequestTarget,
} from "./request-adapter.ts";

const fakeRequest = (fields: {
  url: string;
  method?: string;
  rawHeaders?: string[];
  headers?: Record<string, string>;
  body?: string[];
}): IncomingMessage => {
  const stream = Readable.from(
    (fields.body ?? []).map((text) => Buffer.from(text)),
  ) as unknown as IncomingMessage;
  Object.assign(stream, {
    url: fields.url,
    method: fields.method ?? "GET",
    rawHeaders: fields.rawHeaders ?? [],
    headers: fields.headers ?? {},
    httpVersionMajor: 1,
    socket: { remoteAddress: "::ffff:10.1.2.3" },
  });
  return stream;
};

describe("splitRequestTarget", () => {
  it("splits at the first question mark without decoding anything", () => {
    expect(splitRequestTarget("/b/a%2Fb%20c?x=1?2&y")).toEqual({
      path: "/b/a%2Fb%20c",
      query: "x=1?2&y",
    });
  });

  it("keeps double slashes and dot segments", () => {
    expect(splitRequestTarget("/b//x/../y/./z")).toEqual({ path: "/b//x/../y/./z", query: "" });
  });

  it("gives an empty query for a trailing question mark", () => {
    expect(splitRequestTarget("/b/k?")).toEqual({ path: "/b/k", query: "" });
  });

  it("takes the path of an absolute-form target", () => {
    expect(splitRequestTarget("http://h:1/b/k?q")).toEqual({ path: "/b/k", query: "q" });
    expect(splitRequestTarget("http://h:1")).toEqual({ path: "/", query: "" });
    expect(splitRequestTarget("http://h:1?q=1")).toEqual({ path: "/", query: "q=1" });
  });
});

describe("requestHeaderList", () => {
  it("keeps wire order, case and repeated names", () => {
    const req = fakeRequest({
      url: "/",
      rawHeaders: ["Host", "h", "X-Amz-Meta-A", "1", "x-amz-meta-a", "2"],
    });
    expect(requestHeaderList(req)).toEqual([
      ["Host", "h"],
      ["X-Amz-Meta-A", "1"],
      ["x-amz-meta-a", "2"],
    ]);
  });

  it("turns the HTTP/2 :authority into host and drops other pseudo-headers", () => {
    const req = fakeRequest({
      url: "/",
      rawHeaders: [
        ":method",
        "GET",
        ":authority",
        "osp.example:8443",
        ":path",
        "/",
        "x-amz-date",
        "d",
      ],
    });
    expect(requestHeaderList(req)).toEqual([
      ["host", "osp.example:8443"],
      ["x-amz-date", "d"],
    ]);
  });
});

describe("hasRequestBody", () => {
  it("says no for HTTP/1.1 without content-length or transfer-encoding", () => {
    expect(hasRequestBody(fakeRequest({ url: "/", method: "GET" }))).toBe(false);
    expect(hasRequestBody(fakeRequest({ url: "/", method: "PUT" }))).toBe(false);
  });

  it("says yes when a length or chunked encoding is announced", () => {
    expect(
      hasRequestBody(fakeRequest({ url: "/", method: "PUT", headers: { "content-length": "0" } })),
    ).toBe(true);
    expect(
      hasRequestBody(fakeRequest({ url: "/", headers: { "transfer-encoding": "chunked" } })),
    ).toBe(true);
  });
});

describe("adaptRequest", () => {
  it("builds the ProxyRequest with raw target, address, id and body", async () => {
    const req = fakeRequest({
      url: "/bucket/key%2B1?uploads",
      method: "PUT",
      rawHeaders: ["Host", "h", "Content-Length", "6"],
      headers: { host: "h", "content-length": "6" },
      body: ["abc", "def"],
    });
    const { request, body } = adaptRequest(req, { requestId: "ID1" });
    expect(request).toMatchObject({
      method: "PUT",
      path: "/bucket/key%2B1",
      query: "uploads",
      remoteAddress: "10.1.2.3",
      requestId: "ID1",
    });
    expect(request.sendContinue).toBeUndefined();
    const chunks: string[] = [];
    for await (const chunk of request.body!) chunks.push(Buffer.from(chunk).toString());
    expect(chunks.join("")).toBe("abcdef");
    expect(body?.state).toBe("finished");
    expect(body?.bytesRead).toBe(6);
  });

  it("marks a body the reader stopped early as abandoned without destroying the stream", async () => {
    const req = fakeRequest({
      url: "/b/k",
      method: "PUT",
      headers: { "content-length": "6" },
      body: ["abc", "def"],
    });
    const { request, body } = adaptRequest(req);
    for await (const chunk of request.body!) {
      expect(Buffer.from(chunk).toString()).toBe("abc");
      break;
    }
    expect(body?.state).toBe("abandoned");
    expect(req.destroyed).toBe(false);
  });

  it("offers sendContinue only for Expect: 100-continue, once", () => {
    const req = fakeRequest({
      url: "/b/k",
      method: "PUT",
      headers: { "content-length": "1", expect: "100-continue" },
    });
    let continues = 0;
    const response = {
      headersSent: false,
      destroyed: false,
      writableFinished: false,
      once: () => response,
      writeContinue: () => void (continues += 1),
    };
    const adapted = adaptRequest(req, { response: response as never });
    expect(adapted.expectsContinue).toBe(true);
    adapted.request.sendContinue?.();
    adapted.request.sendContinue?.();
    expect(continues).toBe(1);
    expect(adapted.continueSent()).toBe(true);
  });
});
