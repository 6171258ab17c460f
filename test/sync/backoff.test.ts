import { expect, test } from 'vitest'
import { backoffDelay } from '../../src/index.ts'

test('backoff doubles its ceiling from 250 ms up to 30 s, and jitters below it', () => {
  const top = (attempt: number) => backoffDelay(attempt, { random: () => 0.999999 })
  expect([0, 1, 2, 3].map(top)).toEqual([249, 499, 999, 1999])
  expect(top(20)).toBe(29_999)
  expect(backoffDelay(5, { random: () => 0 })).toBe(0)
  // Full jitter: spread over the whole range, so clients that failed together retry apart.
  const delays = Array.from({ length: 200 }, () => backoffDelay(4))
  expect(Math.min(...delays)).toBeLessThan(1000)
  expect(Math.max(...delays)).toBeGreaterThan(3000)
  expect(delays.every((d) => d >= 0 && d < 4000)).toBe(true)
})
