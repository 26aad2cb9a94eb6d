// Terminal colours: only when the stream is a terminal and NO_COLOR is unset (https://no-color.org).

/** Wraps text in ANSI colours, or returns it unchanged when colours are off. */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** True when `stream` is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`. */
export const colourEnabled = (
  stream: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean =>
  stream.isTTY === true && (env.NO_COLOR == null || env.NO_COLOR === "") && env.TERM !== "dumb";

const wrap =
  (enabled: boolean, open: number, close: number) =>
  (text: string): string =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;

/** A {@link Style} that colours only when `enabled`. */
export const createStyle = (enabled: boolean): Style => ({
  enabled,
  bold: wrap(enabled, 1, 22),
  dim: wrap(enabled, 2, 22),
  red: wrap(enabled, 31, 39),
  green: wrap(enabled, 32, 39),
  yellow: wrap(enabled, 33, 39),
  cyan: wrap(enabled, 36, 39),
});

/** The visible width of text that may hold ANSI colour codes. */
export const visibleLength = (text: string): number =>
  // oxlint-disable-next-line no-control-regex -- matching the escape character is the point
  text.replace(/\u001b\[\d+m/g, "").length;
