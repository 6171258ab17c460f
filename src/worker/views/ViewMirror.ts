import { OffsetOutOfRangeError, UnknownTopicError } from '../../log/errors.ts'
import type { Log } from '../../log/Log.ts'
import { textOrderId } from './viewKeys.ts'
import type { WireEntry } from './viewWire.ts'

/** A committed change of the mirror: keys' new entries (null: deleted) between two offset vectors. */
export interface MirrorChange {
  from: number[]
  to: number[]
  changes: Map<string, WireEntry | null>
  /** The mirror started over (its changelog was truncated or deleted): subscribers need a snapshot. */
  reset: boolean
}

interface ChangelogValue {
  value: unknown
  timestamp: number
}

/**
 * A view in a worker: a replica of a state store built from the store's compacted changelog topic
 * (Kafka's standby replica), not the streams instance's own store. Every tab's worker can mirror
 * every partition whichever tab processes the input, so views are the same in every tab.
 *
 * It folds the changelog from its start, then follows it through `log.onAppend`, which also fires
 * for other tabs' commits (tabBridge). Each catch-up is one change tagged with the offsets it
 * covers. A changelog that does not exist yet is an empty view until its first append.
 */
export class ViewMirror {
  /** Entries by the changelog's key text. */
  readonly entries = new Map<string, WireEntry>()
  /** Next offset per changelog partition: what the entries reflect. */
  offsets: number[] = []
  readonly loaded: Promise<void>
  private readonly listeners = new Set<(change: MirrorChange) => void>()
  private readonly errorListeners = new Set<(error: unknown) => void>()
  private readonly off: () => void
  private running: Promise<void> | null = null
  private again = false
  private sorted: string[] | null = null
  private failure: unknown = null
  /**
   * High watermarks announced by appends since the last fold: enough to know what to read, so a
   * live update costs one fetch and no offsets lookup. Until the first fold succeeds, and after a
   * restart, the partitions' offsets are read instead (`exact`).
   */
  private readonly hints = new Map<number, number>()
  private exact = true

  constructor(
    private readonly log: Log,
    readonly topic: string,
  ) {
    this.off = log.onAppend((events) => {
      let behind = false
      for (const e of events) {
        if (e.topic !== topic) continue
        const at = this.offsets[e.partition] ?? 0
        // Offsets never go back in a topic's life: this one was deleted and created again.
        if (e.highWatermark < at) this.exact = true
        else if (e.highWatermark === at) continue
        this.hints.set(e.partition, Math.max(e.highWatermark, this.hints.get(e.partition) ?? 0))
        behind = true
      }
      if (behind) {
        void this.catchUp().catch((error: unknown) => {
          for (const listener of this.errorListeners) listener(error)
        })
      }
    })
    this.loaded = this.catchUp()
    // Reported to whoever subscribes; never unhandled.
    this.loaded.catch(() => undefined)
  }

  /** The last error following the changelog, if the latest catch-up failed. */
  get error(): unknown {
    return this.failure
  }

  /** Calls `listener` after every catch-up that moved the offsets. Returns an unsubscribe. */
  subscribe(listener: (change: MirrorChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Resolves when no catch-up is running. A fold applies its chunks as they come: a snapshot taken
   * in the middle would be ahead of the `from` of the change that fold then emits.
   */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined)
  }

  /** Calls `listener` when following the changelog fails (the next append tries again). */
  onError(listener: (error: unknown) => void): () => void {
    this.errorListeners.add(listener)
    return () => this.errorListeners.delete(listener)
  }

  /** Key texts in key order (cached until a key is added or removed). */
  sortedKeys(): string[] {
    this.sorted ??= [...this.entries.keys()]
      .map((text) => [textOrderId(text), text] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, text]) => text)
    return this.sorted
  }

  /** Index in sortedKeys() of the first key whose order id is >= `id`. */
  seek(id: string): number {
    const keys = this.sortedKeys()
    // Binary search over order ids without materialising them all.
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (textOrderId(keys[mid]!) < id) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  close(): void {
    this.off()
    this.listeners.clear()
    this.errorListeners.clear()
  }

  /** One catch-up at a time; appends during one make it go round again. */
  private catchUp(): Promise<void> {
    this.again = true
    this.running ??= (async () => {
      try {
        while (this.again) {
          this.again = false
          await this.pull()
        }
        this.failure = null
      } catch (error) {
        this.failure = error
        // The hints of the failed fold are spent: look the offsets up next time.
        this.exact = true
        throw error
      } finally {
        this.running = null
      }
    })()
    return this.running
  }

  private async pull(): Promise<void> {
    const from = [...this.offsets]
    const changes = new Map<string, WireEntry | null>()
    let reset = false
    for (let attempt = 1; ; attempt++) {
      try {
        await this.fold(changes)
        break
      } catch (error) {
        if (!(error instanceof Lost) || attempt >= 3) throw error
        // Records we never folded are gone (retention, or the topic was deleted): a fold over
        // what is left would be wrong, so start over and have subscribers take a new snapshot.
        this.restart()
        changes.clear()
        reset = true
      }
    }
    if (!reset && !this.offsets.some((o, p) => o !== (from[p] ?? 0))) return
    const change: MirrorChange = { from, to: [...this.offsets], changes, reset }
    for (const listener of this.listeners) listener(change)
  }

  /** Reads every partition from where the mirror is to its high watermark into the entries. */
  private async fold(changes: Map<string, WireEntry | null>): Promise<void> {
    let partitions: { partition: number; low: number; high: number }[]
    if (!this.exact) {
      // A read below the log start throws OffsetOutOfRangeError below: the check is not lost.
      partitions = [...this.hints].map(([partition, high]) => ({ partition, low: 0, high }))
      this.hints.clear()
    } else {
      this.hints.clear()
      try {
        partitions = await this.log.offsets(this.topic)
      } catch (error) {
        if (!(error instanceof UnknownTopicError)) throw error
        // Not created yet (the streams instance creates it when it starts): an empty view.
        if (this.entries.size > 0 || this.offsets.length > 0) throw new Lost()
        return
      }
    }
    for (const { partition, low, high } of partitions) {
      const at = this.offsets[partition]
      // Below the log start: records we never folded were removed. Above the end: a new topic.
      if (at !== undefined && (at < low || at > high)) throw new Lost()
      let offset = at ?? low
      this.offsets[partition] = offset
      while (offset < high) {
        let chunk
        try {
          chunk = await this.log.fetch<ChangelogValue | null, string>({
            topic: this.topic,
            partition,
            offset,
          })
        } catch (error) {
          const gone = error instanceof OffsetOutOfRangeError || error instanceof UnknownTopicError
          throw gone ? new Lost() : error
        }
        for (const r of chunk.records) {
          if (r.key === null) continue
          const entry: WireEntry | null =
            r.value === null ? null : [r.key, r.value.value, r.value.timestamp]
          this.apply(r.key, entry)
          changes.set(r.key, entry)
        }
        offset = chunk.nextOffset
        this.offsets[partition] = offset
        if (offset >= chunk.highWatermark) break
      }
    }
    this.exact = false
  }

  private apply(keyText: string, entry: WireEntry | null): void {
    if (entry === null) {
      if (this.entries.delete(keyText)) this.sorted = null
    } else {
      if (!this.entries.has(keyText)) this.sorted = null
      this.entries.set(keyText, entry)
    }
  }

  private restart(): void {
    this.exact = true
    this.entries.clear()
    this.offsets = []
    this.sorted = null
  }
}

/** The mirror missed records it can no longer read. */
class Lost extends Error {}
