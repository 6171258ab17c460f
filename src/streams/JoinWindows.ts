import { InvalidArgumentError } from '../log/errors.ts'

/**
 * How far apart in time two stream records may be to join (Kafka's JoinWindows): within
 * `before` ms earlier or `after` ms later; records later than the grace are dropped.
 */
export class JoinWindows {
  private constructor(
    readonly beforeMs: number,
    readonly afterMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceWithNoGrace(differenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(differenceMs, 0)
  }

  static ofTimeDifferenceAndGrace(differenceMs: number, graceMs: number): JoinWindows {
    for (const [v, what] of [
      [differenceMs, 'time difference'],
      [graceMs, 'grace'],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0)
        throw new InvalidArgumentError(`${what} must be an integer >= 0 ms, got ${v}`)
    }
    return new JoinWindows(differenceMs, differenceMs, graceMs)
  }
}
