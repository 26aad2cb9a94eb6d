// Medians, ratios against the aims, the printed tables and the JSON document.

const MIB = 1024 * 1024;

/** The aims (issue 5, "Benchmark"). */
export const AIMS = {
  smallGetVsPassThrough: 0.8,
  p99VsPassThrough: 1.3,
  largeVsPassThrough: 0.9,
  rssGrowthMiB: 64,
  /** "Flat across rounds", made measurable: no later round peaks this much above the first. */
  rssDriftMiB: 16,
};

export const toMiB = (bytes) => bytes / MIB;

export const median = (values) => {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[middle] : (finite[middle - 1] + finite[middle]) / 2;
};

export const formatNumber = (value, digits = 0) =>
  Number.isFinite(value) ? value.toFixed(digits) : "—";

/** A plain-text table, first column left-aligned, the others right-aligned. */
export const table = (headers, rows) => {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => String(row[column]).length)),
  );
  const line = (cells) =>
    cells
      .map((cell, column) =>
        column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column]),
      )
      .join("  ")
      .trimEnd();
  return [
    line(headers),
    widths.map((width) => "-".repeat(width)).join("  "),
    ...rows.map(line),
  ].join("\n");
};

const pick = (results, field) => median(results.map((result) => result?.[field]));

/** Per-lane medians over the rounds that ran, with every round's raw numbers kept. */
export const summariseLanes = (lanes) => {
  const summary = {};
  for (const lane of lanes) {
    const entry = {
      label: lane.label,
      smallGet: {
        requestsPerSecond: pick(lane.small, "requestsPerSecond"),
        p50Ms: pick(lane.small, "p50Ms"),
        p99Ms: pick(lane.small, "p99Ms"),
        cpuMicrosPerRequest: pick(lane.small, "cpuMicrosPerRequest"),
        clientCpuMicrosPerRequest: pick(lane.small, "clientCpuMicrosPerRequest"),
        rounds: lane.small,
      },
    };
    if (lane.paced?.length > 0) {
      entry.pacedGet = {
        ratePerSecond: lane.paced[0].ratePerSecond,
        achievedPerSecond: pick(lane.paced, "achievedPerSecond"),
        p50Ms: pick(lane.paced, "p50Ms"),
        p99Ms: pick(lane.paced, "p99Ms"),
        cpuMicrosPerRequest: pick(lane.paced, "cpuMicrosPerRequest"),
        rounds: lane.paced,
      };
    }
    if (lane.large) {
      entry.largeGet = {
        mbPerSecond: pick(lane.largeGet, "mbPerSecond"),
        cpuSecondsPerGiB: pick(lane.largeGet, "cpuSecondsPerGiB"),
        rounds: lane.largeGet,
      };
      entry.largePut = {
        mbPerSecond: pick(lane.largePut, "mbPerSecond"),
        cpuSecondsPerGiB: pick(lane.largePut, "cpuSecondsPerGiB"),
        rounds: lane.largePut,
      };
    }
    if (lane.rssPid != null && lane.rssRounds.length > 0) {
      const peaks = lane.rssRounds.map((round) => round.peakBytes);
      const afterRounds = lane.rssRounds.map((round) => round.afterBytes);
      // V8 hands freed pages back lazily, so even right after a GC the RSS may still hold tens of
      // MiB of an earlier phase's heap. Growth is therefore judged per round (peak − the settled
      // RSS just before that round's transfers); peak − the lowest settled reading is kept as
      // the pessimistic figure.
      const idleBytes = Math.min(
        lane.idleRssBytes,
        ...lane.rssRounds.map((round) => round.idleBeforeBytes),
        ...afterRounds,
      );
      entry.rss = {
        startBytes: lane.startRssBytes,
        idleBeforeLargeBytes: lane.idleRssBytes,
        idleBytes,
        peakBytesPerRound: peaks,
        idleBeforeRoundBytes: lane.rssRounds.map((round) => round.idleBeforeBytes),
        afterRoundBytes: afterRounds,
        peakBytes: Math.max(...peaks),
        growthMiB: toMiB(
          Math.max(...lane.rssRounds.map((round) => round.peakBytes - round.idleBeforeBytes)),
        ),
        pessimisticGrowthMiB: toMiB(Math.max(...peaks) - idleBytes),
        // A leak survives GC, so it raises the settled RSS after each round. Peaks also move
        // with GC timing (±20 MiB here): their spread is reported, not judged.
        driftMiB:
          afterRounds.length < 2
            ? Number.NaN
            : toMiB(Math.max(...afterRounds.slice(1)) - afterRounds[0]),
        peakSpreadMiB: toMiB(Math.max(...peaks) - Math.min(...peaks)),
      };
    }
    summary[lane.id] = entry;
  }
  return summary;
};

/**
 * The ratios the issue asks for. Each is the median over rounds of the per-round ratio: the
 * lanes of a round ran back to back, so pairing them cancels much of the drift caused by other
 * work on the machine. The "by CPU" rows divide CPU time per unit of work instead (inverted so
 * they read like throughput ratios): what each proxy would reach with a core to itself.
 */
export const computeRatios = (lanes, summary) => {
  const byId = Object.fromEntries(lanes.map((lane) => [lane.id, lane]));
  const paired = (numeratorId, denominatorId, value) => {
    const numerator = byId[numeratorId];
    const denominator = byId[denominatorId];
    if (numerator == null || denominator == null) return Number.NaN;
    const rounds = Math.max(
      numerator.small.length,
      numerator.paced?.length ?? 0,
      numerator.largeGet.length,
    );
    return median(
      Array.from(
        { length: rounds },
        (_, round) => value(numerator, round) / value(denominator, round),
      ),
    );
  };
  const smallRps = (lane, round) => lane.small[round]?.requestsPerSecond;
  const smallP99 = (lane, round) => lane.small[round]?.p99Ms;
  const pacedP50 = (lane, round) => lane.paced?.[round]?.p50Ms;
  const pacedP99 = (lane, round) => lane.paced?.[round]?.p99Ms;
  const pacedCpuRate = (lane, round) => 1 / lane.paced?.[round]?.cpuMicrosPerRequest;
  const smallCpuRate = (lane, round) => 1 / lane.small[round]?.cpuMicrosPerRequest;
  const getMbps = (lane, round) => lane.largeGet[round]?.mbPerSecond;
  const putMbps = (lane, round) => lane.largePut[round]?.mbPerSecond;
  const getCpuRate = (lane, round) => 1 / lane.largeGet[round]?.cpuSecondsPerGiB;
  const putCpuRate = (lane, round) => 1 / lane.largePut[round]?.cpuSecondsPerGiB;
  const atLeast = (aim) => ({ aim: `≥ ${aim}`, met: (value) => value >= aim });
  const atMost = (aim) => ({ aim: `≤ ${aim}`, met: (value) => value <= aim });
  const rss = summary.osp?.rss;
  const info = (note = "info") => ({ aim: note });
  // A ratio of two lanes by throughput, then the same by CPU per unit of work.
  const SMALL = { rate: smallRps, cpuRate: smallCpuRate, unit: "request" };
  const GET = { rate: getMbps, cpuRate: getCpuRate, unit: "GiB" };
  const PUT = { rate: putMbps, cpuRate: putCpuRate, unit: "GiB" };
  const withCpu = (id, label, [numerator, denominator], metric, aim, cpuAim = aim) => [
    { id, label, value: paired(numerator, denominator, metric.rate), ...aim },
    {
      id: `${id}ByCpu`,
      label: `  same, by CPU per ${metric.unit}`,
      value: paired(numerator, denominator, metric.cpuRate),
      ...cpuAim,
    },
  ];
  const ratios = [
    ...withCpu(
      "ospVsPassThroughSmallGet",
      "OSP small GET req/s ÷ pass-through",
      ["osp", "passthrough"],
      SMALL,
      atLeast(AIMS.smallGetVsPassThrough),
    ),
    {
      id: "ospVsPassThroughP99",
      label: "OSP small GET p99 ÷ pass-through p99, saturated",
      value: paired("osp", "passthrough", smallP99),
      ...atMost(AIMS.p99VsPassThrough),
    },
    // At saturation a closed loop's latency is connections ÷ throughput: the row above repeats
    // the throughput ratio. At one offered load below every lane's capacity, it is the time OSP
    // adds to a request, pauses and the queues they leave included.
    {
      id: "ospVsPassThroughP99EqualLoad",
      label: "  same, at equal load (open loop)",
      value: paired("osp", "passthrough", pacedP99),
      ...atMost(AIMS.p99VsPassThrough),
    },
    {
      id: "ospVsPassThroughP50EqualLoad",
      label: "OSP p50 ÷ pass-through p50, at equal load",
      value: paired("osp", "passthrough", pacedP50),
      ...info(),
    },
    {
      id: "ospVsPassThroughByCpuEqualLoad",
      label: "OSP ÷ pass-through by CPU per request, at equal load",
      value: paired("osp", "passthrough", pacedCpuRate),
      ...info(),
    },
    {
      id: "sigv4FloorVsPassThroughP99EqualLoad",
      label: "pass-through + SigV4 p99 ÷ pass-through p99, at equal load",
      value: paired("sigv4-floor", "passthrough", pacedP99),
      ...info("info: SigV4's own cost"),
    },
    ...withCpu(
      "ospQuietVsPassThroughSmallGet",
      "OSP (log warn) small GET ÷ pass-through",
      ["osp-quiet", "passthrough"],
      SMALL,
      info(),
    ),
    ...withCpu(
      "sigv4FloorVsPassThroughSmallGet",
      "pass-through + SigV4 ÷ pass-through",
      ["sigv4-floor", "passthrough"],
      SMALL,
      info("info: SigV4's own cost"),
      info(),
    ),
    ...withCpu(
      "ospVsSigv4FloorSmallGet",
      "OSP ÷ pass-through + SigV4",
      ["osp", "sigv4-floor"],
      SMALL,
      info("info: OSP's own cost"),
      info(),
    ),
    {
      id: "nginxProxyVsDirect",
      label: "nginx proxy ÷ nginx direct (small GET)",
      value: paired("nginx-proxy", "nginx-direct", smallRps),
      ...info("info (issue: ≈ 0.48)"),
    },
    {
      id: "passThroughVsNginxProxy",
      label: "pass-through ÷ nginx proxy (small GET)",
      value: paired("passthrough", "nginx-proxy", smallRps),
      ...info("info (issue: ≈ 0.22)"),
    },
    {
      id: "ospVsNginxDirect",
      label: "OSP ÷ nginx direct (small GET)",
      value: paired("osp", "nginx-direct", smallRps),
      ...info(),
    },
    ...withCpu(
      "ospVsPassThroughLargeGet",
      "OSP large GET MB/s ÷ pass-through",
      ["osp", "passthrough"],
      GET,
      atLeast(AIMS.largeVsPassThrough),
    ),
    ...withCpu(
      "ospVsPassThroughLargePut",
      "OSP large PUT MB/s ÷ pass-through",
      ["osp", "passthrough"],
      PUT,
      atLeast(AIMS.largeVsPassThrough),
    ),
    {
      id: "ospRssGrowthMiB",
      label: "OSP peak − idle RSS, worst round (MiB)",
      value: rss?.growthMiB ?? Number.NaN,
      ...atMost(AIMS.rssGrowthMiB),
    },
    {
      id: "ospRssPessimisticGrowthMiB",
      label: "  highest peak − lowest settled RSS (MiB)",
      value: rss?.pessimisticGrowthMiB ?? Number.NaN,
      aim: "info",
    },
    {
      id: "ospRssDriftMiB",
      label: "OSP settled RSS, rounds 2+ vs round 1 (MiB)",
      value: rss?.driftMiB ?? Number.NaN,
      aim: `≤ ${AIMS.rssDriftMiB} (flat)`,
      met: (value) => value <= AIMS.rssDriftMiB,
    },
  ];
  return ratios
    .filter((ratio) => Number.isFinite(ratio.value))
    .map(({ met, ...ratio }) => (met == null ? ratio : { ...ratio, met: met(ratio.value) }));
};

/** The text report: medians per lane, OSP's memory, the ratios. */
export const renderReport = (lanes, summary, ratios) => {
  const lines = [];
  lines.push("medians over rounds");
  lines.push(
    table(
      [
        "lane",
        "small req/s",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "client µs/req",
        "equal load p50/p99 ms, CPU µs",
        "GET MB/s",
        "PUT MB/s",
        "CPU s/GiB GET",
        "PUT",
        "RSS MiB +Δ/peak",
      ],
      lanes.map((lane) => {
        const entry = summary[lane.id];
        return [
          lane.label,
          formatNumber(entry.smallGet.requestsPerSecond),
          formatNumber(entry.smallGet.p50Ms, 2),
          formatNumber(entry.smallGet.p99Ms, 2),
          formatNumber(entry.smallGet.cpuMicrosPerRequest),
          formatNumber(entry.smallGet.clientCpuMicrosPerRequest),
          entry.pacedGet == null
            ? ""
            : `${formatNumber(entry.pacedGet.p50Ms, 2)}/${formatNumber(entry.pacedGet.p99Ms, 2)}, ${formatNumber(entry.pacedGet.cpuMicrosPerRequest)}`,
          formatNumber(entry.largeGet?.mbPerSecond),
          formatNumber(entry.largePut?.mbPerSecond),
          formatNumber(entry.largeGet?.cpuSecondsPerGiB, 2),
          formatNumber(entry.largePut?.cpuSecondsPerGiB, 2),
          entry.rss == null
            ? ""
            : `+${formatNumber(entry.rss.growthMiB)}/${formatNumber(toMiB(entry.rss.peakBytes))}`,
        ];
      }),
    ),
  );
  const paced = Object.values(summary).filter((entry) => entry.pacedGet != null);
  if (paced.length > 0) {
    const { ratePerSecond } = paced[0].pacedGet;
    lines.push("");
    lines.push(
      `equal load: ${formatNumber(ratePerSecond)} req/s offered to each of ${paced.map((entry) => entry.label.trim()).join(", ")}; achieved ${paced.map((entry) => formatNumber(entry.pacedGet.achievedPerSecond)).join(" / ")} req/s`,
    );
    const behind = paced.filter((entry) => entry.pacedGet.achievedPerSecond < ratePerSecond * 0.95);
    if (behind.length > 0) {
      lines.push(
        `  ${behind.map((entry) => entry.label.trim()).join(", ")} fell behind the offered rate: their equal-load latencies include queueing (lower OSP_BENCH_PACED_SHARE)`,
      );
    }
  }
  const rss = summary.osp?.rss;
  if (rss != null) {
    const list = (values) => values.map((bytes) => formatNumber(toMiB(bytes))).join(" / ");
    lines.push("");
    lines.push(
      `OSP RSS: ${formatNumber(toMiB(rss.startBytes))} MiB after start, ` +
        `${formatNumber(toMiB(rss.idleBeforeLargeBytes))} MiB settled (after a GC) before the large rounds; ` +
        `peak per round ${list(rss.peakBytesPerRound)} MiB; settled after each round ${list(rss.afterRoundBytes)} MiB; ` +
        `idle baseline (lowest settled) ${formatNumber(toMiB(rss.idleBytes))} MiB`,
    );
  }
  lines.push("");
  lines.push("ratios (median of per-round ratios)");
  lines.push(
    table(
      ["ratio", "value", "aim", ""],
      ratios.map((ratio) => [
        ratio.label,
        formatNumber(ratio.value, 2),
        ratio.aim,
        ratio.met == null ? "" : ratio.met ? "met" : "MISSED",
      ]),
    ),
  );
  return lines.join("\n");
};
