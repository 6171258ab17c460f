/**
 * Polls `check` until it holds; returns how long that took (ms), or throws after `ms`. Tests
 * assert the time where the spec sets a deadline (a group takeover within 2 s, say).
 */
export async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<number> {
  const start = performance.now()
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return performance.now() - start
}
