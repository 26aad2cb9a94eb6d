// Prometheus text exposition (format 0.0.4), written by hand: a handful of counters, gauges and
// histograms do not justify a dependency. Series are kept in plain objects keyed by their
// rendered label set, so a snapshot is JSON and worker snapshots can be summed by the primary.
import { memoryUsage } from "node:process";

/** Bucket upper bounds of the duration histograms, in seconds. @public */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/** One histogram series: per-bucket (not cumulative) counts, the last one being `+Inf`. @public */
export interface HistogramValue {
  buckets: number[];
  sum: number;
  count: number;
}

/** All series of a registry, JSON-serialisable (sent between processes). @public */
export interface MetricsSnapshot {
  counters: Record<string, Record<string, number>>;
  gauges: Record<string, Record<string, number>>;
  histograms: Record<string, Record<string, HistogramValue>>;
}

type MetricType = "counter" | "gauge" | "histogram";

const DEFINITIONS: ReadonlyArray<{ name: string; type: MetricType; help: string }> = [
  {
    name: "osp_requests_total",
    type: "counter",
    help: "Requests answered, by S3 operation and HTTP status.",
  },
  {
    name: "osp_request_duration_seconds",
    type: "histogram",
    help: "Time from request start to the end of the response body, by S3 operation.",
  },
  {
    name: "osp_phase_duration_seconds",
    type: "histogram",
    help: "Time spent in each pipeline phase (parse, authenticate, authorize, credentials, sign, upstream).",
  },
  {
    name: "osp_cache_events_total",
    type: "counter",
    help: "Cache lookups by cache and result (hit, negative-hit, miss, inflight, stale).",
  },
  {
    name: "osp_cache_refreshes_total",
    type: "counter",
    help: "Background refreshes started ahead of expiry, by cache.",
  },
  {
    name: "osp_bytes_received_total",
    type: "counter",
    help: "Request body bytes received from clients.",
  },
  { name: "osp_bytes_sent_total", type: "counter", help: "Response body bytes sent to clients." },
  {
    name: "osp_upstream_errors_total",
    type: "counter",
    help: "Failed backend exchanges, by error code.",
  },
  { name: "osp_requests_in_flight", type: "gauge", help: "Requests being processed now." },
  {
    name: "process_resident_memory_bytes",
    type: "gauge",
    help: "Resident set size of the serving process(es) in bytes.",
  },
];

const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** Renders a label set as it appears between braces; names are fixed by this module. */
const labelKey = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(",");

const bucketIndex = (seconds: number): number => {
  for (let i = 0; i < DURATION_BUCKETS_SECONDS.length; i += 1) {
    if (seconds <= DURATION_BUCKETS_SECONDS[i]!) return i;
  }
  return DURATION_BUCKETS_SECONDS.length;
};

const phaseKeys = new Map(
  ["parse", "authenticate", "authorize", "credentials", "sign", "upstream"].map((phase) => [
    phase,
    labelKey({ phase }),
  ]),
);

const emptySnapshot = (): MetricsSnapshot => ({ counters: {}, gauges: {}, histograms: {} });

/** The metrics of one serving process. @public */
export interface ServerMetrics {
  /** One finished request (fed by the core's `request` event). */
  observeRequest(event: {
    operation: string;
    status: number;
    durationMs: number;
    bytesIn: number;
    bytesOut: number;
  }): void;
  observePhase(phase: string, durationMs: number): void;
  observeCache(cache: string, result: string, refreshStarted?: boolean): void;
  observeUpstreamError(code: string): void;
  requestStarted(): void;
  requestEnded(): void;
  /** A copy of every series, plus the process's resident memory. */
  snapshot(): MetricsSnapshot;
  /** The Prometheus text of this process alone. */
  render(): string;
}

/**
 * Memoizes `create` by two keys in nested maps: the per-request lookups build no key string.
 */
const memoByTwoKeys = <A, B, V>(create: (first: A, second: B) => V) => {
  const byFirst = new Map<A, Map<B, V>>();
  return (first: A, second: B): V => {
    let bySecond = byFirst.get(first);
    if (bySecond === undefined) {
      bySecond = new Map();
      byFirst.set(first, bySecond);
    }
    let value = bySecond.get(second);
    if (value === undefined) {
      value = create(first, second);
      bySecond.set(second, value);
    }
    return value;
  };
};

/** Creates an empty registry. @public */
export const createServerMetrics = (): ServerMetrics => {
  const data = emptySnapshot();
  data.counters.osp_bytes_received_total = { "": 0 };
  data.counters.osp_bytes_sent_total = { "": 0 };
  data.gauges.osp_requests_in_flight = { "": 0 };

  const add = (name: string, key: string, amount: number): void => {
    const series = (data.counters[name] ??= {});
    series[key] = (series[key] ?? 0) + amount;
  };
  const histogram = (name: string, key: string): HistogramValue => {
    const series = (data.histograms[name] ??= {});
    return (series[key] ??= {
      buckets: Array.from({ length: DURATION_BUCKETS_SECONDS.length + 1 }, () => 0),
      sum: 0,
      count: 0,
    });
  };
  const record = (value: HistogramValue, seconds: number): void => {
    value.buckets[bucketIndex(seconds)]! += 1;
    value.sum += seconds;
    value.count += 1;
  };
  const inFlight = data.gauges.osp_requests_in_flight;

  // Rendered label sets per (operation, status) and the series they name: found once, not on
  // every request (the series objects stay in `data`, which snapshots copy).
  const requestKeysFor = memoByTwoKeys((operation: string, status: number) => ({
    total: labelKey({ operation, status: String(status) }),
    duration: histogram("osp_request_duration_seconds", labelKey({ operation })),
  }));
  // The phase histograms, by phase name.
  const phaseSeries = new Map<string, HistogramValue>();
  // Rendered label sets of cache events, by cache then result: a cached validator decision is
  // one event per request.
  const cacheKey = memoByTwoKeys((cache: string, result: string) => labelKey({ cache, result }));
  const refreshKeys = new Map<string, string>();
  const refreshKey = (cache: string): string => {
    let key = refreshKeys.get(cache);
    if (key == null) {
      key = labelKey({ cache });
      refreshKeys.set(cache, key);
    }
    return key;
  };

  const metrics: ServerMetrics = {
    observeRequest({ operation, status, durationMs, bytesIn, bytesOut }) {
      const keys = requestKeysFor(operation, status);
      add("osp_requests_total", keys.total, 1);
      record(keys.duration, durationMs / 1000);
      add("osp_bytes_received_total", "", bytesIn);
      add("osp_bytes_sent_total", "", bytesOut);
    },
    observePhase(phase, durationMs) {
      let series = phaseSeries.get(phase);
      if (series == null) {
        series = histogram(
          "osp_phase_duration_seconds",
          phaseKeys.get(phase) ?? labelKey({ phase }),
        );
        phaseSeries.set(phase, series);
      }
      record(series, durationMs / 1000);
    },
    observeCache(cache, result, refreshStarted) {
      add("osp_cache_events_total", cacheKey(cache, result), 1);
      if (refreshStarted === true) add("osp_cache_refreshes_total", refreshKey(cache), 1);
    },
    observeUpstreamError(code) {
      add("osp_upstream_errors_total", labelKey({ code }), 1);
    },
    requestStarted() {
      inFlight[""] = (inFlight[""] ?? 0) + 1;
    },
    requestEnded() {
      inFlight[""] = Math.max(0, (inFlight[""] ?? 0) - 1);
    },
    snapshot() {
      const copy = structuredClone(data);
      copy.gauges.process_resident_memory_bytes = { "": memoryUsage.rss() };
      return copy;
    },
    render() {
      return renderMetrics(metrics.snapshot());
    },
  };
  return metrics;
};

/** Sums snapshots (one per worker process) into one. @public */
export const mergeSnapshots = (snapshots: ReadonlyArray<MetricsSnapshot>): MetricsSnapshot => {
  const total = emptySnapshot();
  for (const snapshot of snapshots) {
    for (const kind of ["counters", "gauges"] as const) {
      for (const [name, series] of Object.entries(snapshot[kind])) {
        const target = (total[kind][name] ??= {});
        for (const [key, value] of Object.entries(series)) target[key] = (target[key] ?? 0) + value;
      }
    }
    for (const [name, series] of Object.entries(snapshot.histograms)) {
      const target = (total.histograms[name] ??= {});
      for (const [key, value] of Object.entries(series)) {
        const into = (target[key] ??= { buckets: value.buckets.map(() => 0), sum: 0, count: 0 });
        value.buckets.forEach((count, i) => {
          into.buckets[i] = (into.buckets[i] ?? 0) + count;
        });
        into.sum += value.sum;
        into.count += value.count;
      }
    }
  }
  return total;
};

const formatNumber = (value: number): string =>
  Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";

const withLabels = (name: string, key: string): string => (key === "" ? name : `${name}{${key}}`);

/** Renders a snapshot as Prometheus text exposition format 0.0.4. @public */
export const renderMetrics = (snapshot: MetricsSnapshot): string => {
  const lines: string[] = [];
  for (const { name, type, help } of DEFINITIONS) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    if (type === "histogram") {
      for (const [key, value] of Object.entries(snapshot.histograms[name] ?? {})) {
        const prefix = key === "" ? "" : `${key},`;
        let cumulative = 0;
        DURATION_BUCKETS_SECONDS.forEach((bound, i) => {
          cumulative += value.buckets[i] ?? 0;
          lines.push(`${name}_bucket{${prefix}le="${bound}"} ${cumulative}`);
        });
        lines.push(`${name}_bucket{${prefix}le="+Inf"} ${value.count}`);
        lines.push(`${withLabels(`${name}_sum`, key)} ${formatNumber(value.sum)}`);
        lines.push(`${withLabels(`${name}_count`, key)} ${value.count}`);
      }
      continue;
    }
    const series = (type === "counter" ? snapshot.counters : snapshot.gauges)[name] ?? {};
    for (const [key, value] of Object.entries(series))
      lines.push(`${withLabels(name, key)} ${formatNumber(value)}`);
  }
  return `${lines.join("\n")}\n`;
};

/** The `Content-Type` of {@link renderMetrics}' output. @public */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
