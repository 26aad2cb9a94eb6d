// Values that are ready now or later. The request path continues synchronously on cache hits and
// static keys, and waits only where something really is pending: an `await` (or `.then`) on a
// ready value still costs a promise and a microtask, and a small GET used to make about fifty.

/** A value now, or a promise of it. @public */
export type MaybePromise<T> = T | Promise<T>;

/** Whether `value` is a promise or another thenable. @internal */
export const isPromiseLike = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  typeof (value as { then?: unknown } | null)?.then === "function";

/**
 * Runs `next` on the value: at once when it is ready (an exception then propagates to the
 * caller), else when the promise fulfils (a rejection skips `next`). @internal
 */
export const andThen = <A, B>(
  value: A | PromiseLike<A>,
  next: (ready: A) => MaybePromise<B>,
): MaybePromise<B> => (isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value));
