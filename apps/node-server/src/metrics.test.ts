import { describe, expect, it } from "vitest";
import {
  createServerMetrics,
  DURATION_BUCKETS_SECONDS,
  mergeSnapshots,
  renderMetrics,
} from "./metrics.ts";

const lineValue = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line == null ? undefined : Number(line.slice(series.length + 1));
};

describe("server metrics", () => {
  it("counts requests by operation and status, with bytes in and out", () => {
    const metrics = createServerMetrics();
    metrics.observeRequest({
      operation: "GetObject",
      status: 200,
      durationMs: 3,
      bytesIn: 0,
      bytesOut: 100,
    });
    metrics.observeRequest({
      operation: "GetObject",
      status: 200,
      durationMs: 4,
      bytesIn: 0,
      bytesOut: 50,
    });
    metrics.observeRequest({
      operation: "PutObject",
      status: 403,
      durationMs: 1,
      bytesIn: 10,
      bytesOut: 0,
    });
    const text = metrics.render();
    expect(lineValue(text, 'osp_requests_total{operation="GetObject",status="200"}')).toBe(2);
    expect(lineValue(text, 'osp_requests_total{operation="PutObject",status="403"}')).toBe(1);
    expect(lineValue(text, "osp_bytes_sent_total")).toBe(150);
    expect(lineValue(text, "osp_bytes_received_total")).toBe(10);
  });

  it("renders cumulative histogram buckets with sum and count", () => {
    const metrics = createServerMetrics();
    metrics.observePhase("authenticate", 0.2); // 0.0002 s → first bucket
    metrics.observePhase("authenticate", 20); // 0.02 s → le="0.025"
    metrics.observePhase("authenticate", 400_000); // 400 s → only +Inf
    const text = metrics.render();
    const series = (le: string) =>
      lineValue(text, `osp_phase_duration_seconds_bucket{phase="authenticate",le="${le}"}`);
    expect(series(String(DURATION_BUCKETS_SECONDS[0]))).toBe(1);
    expect(series("0.01")).toBe(1);
    expect(series("0.025")).toBe(2);
    expect(series("300")).toBe(2);
    expect(series("+Inf")).toBe(3);
    expect(lineValue(text, 'osp_phase_duration_seconds_count{phase="authenticate"}')).toBe(3);
    expect(lineValue(text, 'osp_phase_duration_seconds_sum{phase="authenticate"}')).toBeCloseTo(
      400.0202,
      6,
    );
  });

  it("declares HELP and TYPE for every family once", () => {
    const text = createServerMetrics().render();
    const types = text.split("\n").filter((line) => line.startsWith("# TYPE "));
    expect(types).toContain("# TYPE osp_requests_total counter");
    expect(types).toContain("# TYPE osp_request_duration_seconds histogram");
    expect(types).toContain("# TYPE osp_requests_in_flight gauge");
    expect(new Set(types).size).toBe(types.length);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("tracks requests in flight and never goes below zero", () => {
    const metrics = createServerMetrics();
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.requestEnded();
    expect(lineValue(metrics.render(), "osp_requests_in_flight")).toBe(1);
    metrics.requestEnded();
    metrics.requestEnded();
    expect(lineValue(metrics.render(), "osp_requests_in_flight")).toBe(0);
  });

  it("counts cache results and refreshes per cache", () => {
    const metrics = createServerMetrics();
    metrics.observeCache("secrets", "hit", true);
    metrics.observeCache("secrets", "miss");
    metrics.observeUpstreamError("ServiceUnavailable");
    const text = metrics.render();
    expect(lineValue(text, 'osp_cache_events_total{cache="secrets",result="hit"}')).toBe(1);
    expect(lineValue(text, 'osp_cache_events_total{cache="secrets",result="miss"}')).toBe(1);
    expect(lineValue(text, 'osp_cache_refreshes_total{cache="secrets"}')).toBe(1);
    expect(lineValue(text, 'osp_upstream_errors_total{code="ServiceUnavailable"}')).toBe(1);
  });

  it("escapes label values", () => {
    const metrics = createServerMetrics();
    metrics.observeUpstreamError('we"ird\\code\n');
    expect(metrics.render()).toContain('osp_upstream_errors_total{code="we\\"ird\\\\code\\n"} 1');
  });

  it("sums snapshots of several workers", () => {
    const a = createServerMetrics();
    const b = createServerMetrics();
    a.observeRequest({
      operation: "GetObject",
      status: 200,
      durationMs: 2,
      bytesIn: 0,
      bytesOut: 7,
    });
    b.observeRequest({
      operation: "GetObject",
      status: 200,
      durationMs: 2,
      bytesIn: 1,
      bytesOut: 3,
    });
    b.observeRequest({
      operation: "HeadObject",
      status: 404,
      durationMs: 2,
      bytesIn: 0,
      bytesOut: 0,
    });
    const text = renderMetrics(mergeSnapshots([a.snapshot(), b.snapshot()]));
    expect(lineValue(text, 'osp_requests_total{operation="GetObject",status="200"}')).toBe(2);
    expect(lineValue(text, 'osp_requests_total{operation="HeadObject",status="404"}')).toBe(1);
    expect(lineValue(text, "osp_bytes_sent_total")).toBe(10);
    expect(lineValue(text, 'osp_request_duration_seconds_count{operation="GetObject"}')).toBe(2);
    expect(lineValue(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});
