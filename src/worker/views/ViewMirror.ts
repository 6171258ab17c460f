import { OffsetOutOfRangeError, UnknownTopicError } from '../../log/errors.ts'
import type { Log } from '../../log/Log.ts'
import {
  decodeSnapshotImage,
  loadSnapshotImage,
  type SnapshotChunk,
  type SnapshotImage,
} from '../../log/TopicSnapshot.ts'
import { rejectionWarning } from '../../streams/StoreSnapshots.ts'
import type { ChangelogPreview, ChangelogValue } from '../../streams/ChangelogPreview.ts'
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

/** A preview this mirror applied whose commit it has not seen yet. */
interface Unconfirmed {
  tag: string
  partition: number
  from: number
  to: number
  /** The entries its records replaced (null: absent), to take it back. */
  before: Map<string, WireEntry | null>
}

/**
 * A view in a worker: a replica of a state store built from the store's compacted changelog topic
 * (Kafka's standby replica), not the streams instance's own store. Every tab's worker can mirror
 * every partition whichever tab processes the input, so views are the same in every tab.
 *
 * It folds the changelog from its start, then follows it through `log.onAppend`, which also fires
 * for other tabs' commits (tabBridge). Each catch-up is one change tagged with the offsets it
 * covers. A changelog that does not exist yet is an empty view until its first append.
 *
 * The instance running the topology also announces each batch's changelog records before their
 * commit (`offer`, ChangelogPreview): a mirror that has folded exactly up to where they start shows
 * them at once, and recognises their commit by its tag without reading it back. Their input is
 * durable, so the view is never ahead of the log, only of the changelog; if the changelog moves
 * some other way (the instance died before its commit and another reprocessed the input), or the
 * commit failed, the mirror takes them back and folds the changelog again, telling subscribers to
 * start over (`reset`).
 */
export class ViewMirror {
  /** Entries by the changelog's key text (see `entries`). */
  private readonly map = new Map<string, WireEntry>()
  /**
   * The stored snapshot this mirror starts from, not decoded yet: a subscription's first message
   * can carry its chunks as stored (the page parses them once), and the decode waits until
   * something needs the entries (a diff, a query, a range) or the worker is idle. At 100,000 keys
   * the decode, fill and packing were ~150 ms of the first view's path.
   */
  private image: SnapshotImage | null = null
  /** The stored snapshot did not decode: fold from the changelog's start instead. */
  private skipSnapshot = false
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
  /** Applied previews awaiting their commit, oldest first. */
  private unconfirmed: Unconfirmed[] = []
  /** Previews were taken back: the next change makes subscribers take a fresh snapshot. */
  private mustReset = false

  constructor(
    private readonly log: Log,
    readonly topic: string,
    /**
     * The label of the store's snapshots (storeSnapshotLabel): with it, the mirror starts from
     * the stored snapshot and folds only the changelog after it. Without it, from the start.
     */
    private readonly snapshotLabel?: string,
  ) {
    this.off = log.onAppend((events) => {
      let behind = false
      for (const e of events) {
        if (e.topic !== topic) continue
        if (this.unconfirmed.some((u) => u.partition === e.partition)) {
          const i = this.unconfirmed.findIndex(
            (u) => u.partition === e.partition && u.tag === e.tag && u.to === e.highWatermark,
          )
          if (i >= 0) {
            // The commit of what we showed: nothing to read.
            this.unconfirmed = this.unconfirmed.filter(
              (u, j) => j > i || u.partition !== e.partition,
            )
            continue
          }
          // Someone else's records (or ours at other offsets): what we showed is not the changelog.
          this.takeBack()
          this.exact = true
          behind = true
          continue
        }
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

  /** Entries by the changelog's key text (decoding the snapshot first if it is not yet). */
  get entries(): Map<string, WireEntry> {
    if (this.image) this.decode()
    return this.map
  }

  /**
   * The snapshot's chunks as stored, while the mirror is exactly that snapshot (not decoded, no
   * record folded since): what a subscription of the whole view can send as its first message.
   */
  storedChunks(): readonly SnapshotChunk[] | null {
    return this.image?.chunks ?? null
  }

  /** Decodes the snapshot in a later task, when nothing has needed it before. */
  decodeSoon(): void {
    setTimeout(() => {
      if (this.image) this.decode()
    }, 0)
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
   * A batch's changelog records before their commit (see the class comment). Applied when this
   * mirror is idle and folded exactly up to their first offset (or up to the previous preview);
   * otherwise ignored, and the commit brings them as any append.
   */
  offer(preview: ChangelogPreview): void {
    if (preview.type === 'aborted') {
      if (this.unconfirmed.some((u) => u.tag === preview.tag)) {
        this.takeBack()
        this.exact = true
        void this.catchUp().catch((error: unknown) => {
          for (const listener of this.errorListeners) listener(error)
        })
      }
      return
    }
    for (const append of preview.changelogs) {
      if (append.topic !== this.topic) continue
      const { partition, from, records } = append
      if (this.running || this.exact || this.mustReset || this.offsets[partition] !== from) continue
      // A preview applies to the entries: decode the snapshot first (a failed decode restarts).
      if (this.image && !this.decode()) return
      const before = new Map<string, WireEntry | null>()
      const changes = new Map<string, WireEntry | null>()
      for (const r of records) {
        if (!before.has(r.key)) before.set(r.key, this.entries.get(r.key) ?? null)
        const entry: WireEntry | null =
          r.value === null ? null : [r.key, r.value.value, r.value.timestamp]
        this.apply(r.key, entry)
        changes.set(r.key, entry)
      }
      const fromOffsets = [...this.offsets]
      const to = from + records.length
      this.offsets[partition] = to
      this.unconfirmed.push({ tag: preview.tag, partition, from, to, before })
      const change: MirrorChange = {
        from: fromOffsets,
        to: [...this.offsets],
        changes,
        reset: false,
      }
      for (const listener of this.listeners) listener(change)
    }
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
    this.image = null
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
    let reset = this.mustReset
    this.mustReset = false
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
    // Before the offsets are read, so the snapshot is never newer than what they say.
    if (
      this.snapshotLabel !== undefined &&
      !this.skipSnapshot &&
      this.offsets.length === 0 &&
      this.map.size === 0
    ) {
      const { image, rejected } = await loadSnapshotImage(this.log, this.topic, this.snapshotLabel)
      if (rejected) console.warn(rejectionWarning(this.topic, rejected))
      if (image) {
        this.image = image
        this.offsets = [...image.header.offsets]
        // Nobody listens to a mirror's first fold (the subscription's snapshot is taken after
        // it); if someone does, they need the entries as changes.
        if (this.listeners.size > 0) {
          if (!this.decode()) throw new Lost()
          for (const [key, entry] of this.map) changes.set(key, entry)
        }
      }
    }
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
        if (this.map.size > 0 || this.image || this.offsets.length > 0) throw new Lost()
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
        // Records after the snapshot: they apply to its entries, so decode it now.
        if (this.image && chunk.records.length > 0 && !this.decode()) throw new Lost()
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

  /** Undoes the unconfirmed previews, newest first, back to the last committed fold. */
  private takeBack(): void {
    for (const u of this.unconfirmed.reverse()) {
      for (const [key, entry] of u.before) this.apply(key, entry)
      this.offsets[u.partition] = u.from
    }
    this.unconfirmed = []
    this.mustReset = true
  }

  /**
   * Turns the stored snapshot into the entries. False if it does not decode (written wrong, its
   * checksum notwithstanding): the mirror then starts over from the changelog, and subscribers
   * are told to take a new snapshot.
   */
  private decode(): boolean {
    const image = this.image
    if (!image) return true
    this.image = null
    const snapshot = decodeSnapshotImage(this.log, image)
    if (!snapshot) {
      console.warn(rejectionWarning(this.topic, 'damaged'))
      this.skipSnapshot = true
      this.restart()
      this.mustReset = true
      void this.catchUp().catch((error: unknown) => {
        for (const listener of this.errorListeners) listener(error)
      })
      return false
    }
    // Images are written in key order (storeEntries): then the key order costs no sort.
    const keys: string[] = []
    let ordered = true
    let last = ''
    for (const entry of snapshot.entries) {
      const key = entry[0]
      // The image's entries are shared with other readers and never changed (TopicSnapshot).
      this.map.set(key, entry)
      if (ordered) {
        const id = textOrderId(key)
        if (keys.length > 0 && !(last < id)) ordered = false
        last = id
        keys.push(key)
      }
    }
    this.sorted = ordered ? keys : null
    return true
  }

  private restart(): void {
    this.unconfirmed = []
    this.exact = true
    this.image = null
    this.map.clear()
    this.offsets = []
    this.sorted = null
  }
}

/** The mirror missed records it can no longer read. */
class Lost extends Error {}
