// Shared by the unit tests in src/ and the model test in test/.

/** A promise with its settle functions exposed, so a test decides when a load ends. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Creates a {@link Deferred}. */
export const deferred = <T>(): Deferred<T> => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** A manual clock in epoch milliseconds. */
export interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

/** Creates a {@link FakeClock} starting at `startMs`. */
export const fakeClock = (startMs = 1_700_000_000_000): FakeClock => {
  let currentMs = startMs;
  return {
    now: () => currentMs,
    advance: (ms) => {
      currentMs += ms;
    },
  };
};

/** Lets every queued promise callback run: no timer, no wall-clock wait. */
export const settle = async (): Promise<void> => {
  for (let turn = 0; turn < 20; turn += 1) await Promise.resolve();
};
