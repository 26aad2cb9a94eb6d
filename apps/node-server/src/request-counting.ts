// Process-wide request counting, as the predecessor's module functions: off by default, counts
// requests that passed authorization, disabling keeps the count. Every proxy started in this
// process (and, in the cluster primary, every worker) is a source; the count is their sum.

/** Something that counts requests: a proxy's counter, or the workers seen from the primary. */
export interface RequestCountSource {
  enable(): void;
  disable(): void;
  get(): number;
  reset(): void;
}

const sources = new Set<RequestCountSource>();
let enabled = false;
// Counts of sources that went away (closed servers), so the total never goes backwards.
let retiredCount = 0;

/** Turns request counting on for every server of this process (and its workers). @public */
export const enableRequestCounting = (): void => {
  enabled = true;
  for (const source of sources) source.enable();
};

/** Stops counting; the count is kept. @public */
export const disableRequestCounting = (): void => {
  enabled = false;
  for (const source of sources) source.disable();
};

/**
 * Requests counted so far by every server of this process. In the cluster primary it is the sum
 * over the workers, as last reported by them (they report at most 250 ms apart). @public
 */
export const getRequestCount = (): number => {
  let total = retiredCount;
  for (const source of sources) total += source.get();
  return total;
};

/** Sets the count back to zero (everywhere). @public */
export const resetRequestCount = (): void => {
  retiredCount = 0;
  for (const source of sources) source.reset();
};

/** True while counting is on. @public */
export const isRequestCountingEnabled = (): boolean => enabled;

/**
 * Adds a source, brought in line with the current on/off state. Returns the function that
 * removes it again, keeping what it counted in the total.
 */
export const attachRequestCountSource = (source: RequestCountSource): (() => void) => {
  if (enabled) source.enable();
  else source.disable();
  sources.add(source);
  return () => {
    if (!sources.delete(source)) return;
    retiredCount += source.get();
  };
};
