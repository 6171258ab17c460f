import { InvalidArgumentError } from '../log/errors.ts'

/**
 * Options of a stream-table join (Kafka's Joined). `withGracePeriod(ms)` (KIP-923) holds each
 * stream record until the stream side's time has passed its timestamp by `ms`, then joins the
 * held records in timestamp order, each with the table as of its own timestamp: a table update
 * that arrives up to `ms` after a record it should have met still meets it. It needs a versioned
 * table whose history retention is at least the grace period. A grace period of 0 is none.
 */
export class Joined {
  private constructor(readonly gracePeriodMs: number) {}

  /** Kafka's Joined.with(...) without serdes (duality's values are JavaScript values). */
  static with(): Joined {
    return new Joined(0)
  }

  static withGracePeriod(ms: number): Joined {
    return new Joined(0).withGracePeriod(ms)
  }

  withGracePeriod(ms: number): Joined {
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new InvalidArgumentError(
        `A join's grace period must be an integer >= 0 (ms), got ${String(ms)}`,
      )
    return new Joined(ms)
  }
}
