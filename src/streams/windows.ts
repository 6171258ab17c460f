import { InvalidArgumentError } from '../log/errors.ts'

/** A window's bounds in ms: [start, end) for time windows, [start, end] for sessions. */
export interface Window {
  start: number
  end: number
}

/** The key of a windowed aggregate (Kafka's Windowed<K>). */
export interface Windowed<K> {
  key: K
  window: Window
}

const DAY = 24 * 60 * 60 * 1000

const positive = (ms: number, what: string): number => {
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new InvalidArgumentError(`${what} must be a positive integer of ms, got ${ms}`)
  return ms
}
const nonNegative = (ms: number, what: string): number => {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new InvalidArgumentError(`${what} must be an integer >= 0 ms, got ${ms}`)
  return ms
}

/** Tumbling (advance = size) or hopping (advance < size) windows aligned to the epoch. */
export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly graceMs: number,
    readonly advanceMs: number,
  ) {}

  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return new TimeWindows(positive(sizeMs, 'window size'), 0, sizeMs)
  }

  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    return new TimeWindows(positive(sizeMs, 'window size'), nonNegative(graceMs, 'grace'), sizeMs)
  }

  /** Hopping windows: a new window every `advanceMs` (at most the size). */
  advanceBy(advanceMs: number): TimeWindows {
    positive(advanceMs, 'advance')
    if (advanceMs > this.sizeMs)
      throw new InvalidArgumentError(
        `advance (${advanceMs}) must not exceed the window size (${this.sizeMs})`,
      )
    return new TimeWindows(this.sizeMs, this.graceMs, advanceMs)
  }

  /** The windows holding `timestamp`, oldest first (none start before 0, as in Kafka). */
  windowsFor(timestamp: number): Window[] {
    const out: Window[] = []
    // Kafka's TimeWindows.windowsFor: the first window start that can still hold the timestamp.
    const first =
      Math.floor(Math.max(0, timestamp - this.sizeMs + this.advanceMs) / this.advanceMs) *
      this.advanceMs
    for (let start = first; start <= timestamp; start += this.advanceMs) {
      if (start + this.sizeMs > timestamp) out.push({ start, end: start + this.sizeMs })
    }
    return out
  }

  /** How long windows are kept for queries after they close (Kafka's default: at least a day). */
  retentionMs(): number {
    return Math.max(this.sizeMs + this.graceMs, DAY)
  }
}

/**
 * Sliding windows (KIP-450): windows of `timeDifferenceMs` that exist where records are, each
 * [start, start + timeDifference] inclusive at both ends. A record opens its own window ending at
 * its timestamp, and a window starting just after it once a later record falls within reach.
 */
export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return new SlidingWindows(positive(timeDifferenceMs, 'time difference'), 0)
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    return new SlidingWindows(
      positive(timeDifferenceMs, 'time difference'),
      nonNegative(graceMs, 'grace'),
    )
  }

  /** Windows are kept for queries after they close, and long enough to derive new ones. */
  retentionMs(): number {
    return Math.max(2 * this.timeDifferenceMs + this.graceMs + 1, DAY)
  }
}

/** Session windows: records of a key closer than the inactivity gap form one session. */
export class SessionWindows {
  private constructor(
    readonly gapMs: number,
    readonly graceMs: number,
  ) {}

  static ofInactivityGapWithNoGrace(gapMs: number): SessionWindows {
    return new SessionWindows(positive(gapMs, 'inactivity gap'), 0)
  }

  static ofInactivityGapAndGrace(gapMs: number, graceMs: number): SessionWindows {
    return new SessionWindows(positive(gapMs, 'inactivity gap'), nonNegative(graceMs, 'grace'))
  }

  /**
   * How long sessions are kept for queries after they end. Kafka's session store keeps them for
   * gap + grace (until they close); duality keeps at least a day, as it does for time windows.
   */
  retentionMs(): number {
    return Math.max(this.gapMs + this.graceMs, DAY)
  }
}

/** When a windowed aggregation emits (Kafka's EmitStrategy). */
export const EmitStrategy = {
  /** Every update (the default, caching off). */
  onWindowUpdate: () => ({ type: 'update' }) as const,
  /** Only each window's final result, once the window closes (end + grace <= stream time). */
  onWindowClose: () => ({ type: 'close' }) as const,
}
export type EmitStrategy = ReturnType<(typeof EmitStrategy)[keyof typeof EmitStrategy]>
