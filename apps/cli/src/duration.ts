// Durations on the command line: plain seconds ("900") or unit sums ("1h", "7d", "1h30m", "500ms").
import { UsageError } from "./exit-codes.ts";

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Milliseconds of `text`: an integer is seconds; otherwise one or more `<integer><unit>` parts
 * with units ms, s, m, h, d. Returns `undefined` for anything else.
 */
export const parseDurationMs = (text: string): number | undefined => {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return total;
};

/** Like {@link parseDurationMs} for the option `--name`, throwing a usage error when invalid. */
export const durationOption = (command: string, name: string, text: string): number => {
  const ms = parseDurationMs(text);
  if (ms == null) {
    throw new UsageError(
      `--${name} must be seconds ("900") or a duration like "15m", "1h", "7d" (got "${text}")`,
      command,
    );
  }
  return ms;
};

/** "1h 30m", "7d", "900s": a duration for people. */
export const formatDuration = (ms: number): string => {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, seconds] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join(" ");
};
