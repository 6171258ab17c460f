/**
 * Exponential backoff with full jitter (the AWS architecture blog's "full jitter"): the n-th
 * retry waits a random time in [0, min(cap, base * 2^n)], so clients that lost the server
 * together do not come back together.
 */
export function backoffDelay(
  attempt: number,
  options: { baseMs?: number; capMs?: number; random?: () => number } = {},
): number {
  const base = options.baseMs ?? 250
  const cap = options.capMs ?? 30_000
  const random = options.random ?? Math.random
  return Math.floor(random() * Math.min(cap, base * 2 ** Math.min(attempt, 30)))
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done)
  })
}
