import type { Log } from './Log.ts'
import { InvalidConfigError } from './errors.ts'
import { topicRange, type PartitionRow, type ReadTx, type SegmentRow } from './LogStorage.ts'
import { agedOut, emptySegment } from './planAppend.ts'
import {
  isTombstone,
  rebuildBatch,
  recordCount,
  recordOffset,
  rowKeys,
  valueColumn,
  type Pick,
} from './RecordBatch.ts'
import { keyIdentity } from './record.ts'
import { rollPartitions } from './rollSegment.ts'
import { hasRetention, isCompacted, type TopicConfig } from './TopicConfig.ts'

export interface CleanerOptions {
  /**
   * How often the background cleaner looks at every partition (default 30,000 ms; 0 = never). An
   * integer up to 2^31 - 1; anything else (NaN, Infinity, negative) is an InvalidConfigError.
   */
  intervalMs?: number
}

export interface CleanerRunOptions {
  /** Only these topics (default: all). */
  topics?: string[]
  /** Compact even when the dirty ratio is below `min.cleanable.dirty.ratio`. */
  force?: boolean
}

export interface CleanReport {
  topic: string
  partition: number
  /** Segments removed by retention in this run. */
  deletedSegments: number
  logStartOffset: number
  /** Set when the partition was compacted: offsets below `cleanedUpTo` now hold the latest per key. */
  compaction: { cleanedUpTo: number; removedRecords: number } | null
}

/** How many batch rows one read of the cleaner's key scan takes: its step size. */
const SCAN_ROWS = 32

/** The longest delay setTimeout keeps (a signed 32-bit int); longer ones fire after 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

/**
 * Retention and compaction (Kafka's LogCleaner), in small steps: every step is one short
 * transaction over one segment, and the cleaner yields to the event loop between steps, so appends
 * and reads are never held up for long. Compaction only touches closed segments below the active
 * one; an active segment older than segment.ms is rolled first, so a topic that went quiet is
 * still compacted and expired (see rollIdle).
 */
export class Cleaner {
  private timer: ReturnType<typeof setTimeout> | undefined
  private running: Promise<unknown> = Promise.resolve()
  private readonly intervalMs: number

  constructor(
    private readonly log: Log,
    options: CleanerOptions = {},
  ) {
    const intervalMs = options.intervalMs ?? 30_000
    // setTimeout turns NaN, Infinity and anything above 2^31 - 1 into 1 ms: taken silently, such a
    // value would clean in a tight loop. Refused, as Kafka's ConfigDef refuses a LONG that does not
    // parse (log.cleaner.backoff.ms is a LONG, at least 0).
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 0 || intervalMs > MAX_TIMEOUT_MS) {
      throw new InvalidConfigError(
        `cleaner.intervalMs must be an integer from 0 (never) to ${MAX_TIMEOUT_MS} ms, not ${String(intervalMs)}`,
      )
    }
    this.intervalMs = intervalMs
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.run()
          .catch(() => undefined)
          .finally(() => this.timer && tick())
      }, this.intervalMs)
      // Never keep a Node process alive just for cleaning.
      ;(this.timer as { unref?: () => void }).unref?.()
    }
    tick()
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Whether background cleaning is on in this Log. */
  get active(): boolean {
    return this.timer !== undefined
  }

  /** Resolves when the current run (if any) has finished. */
  async idle(): Promise<void> {
    await this.running.catch(() => undefined)
  }

  /** One pass of retention and compaction over the chosen topics; runs are never concurrent. */
  run(options: CleanerRunOptions = {}): Promise<CleanReport[]> {
    const next = this.running.catch(() => undefined).then(() => this.pass(options))
    this.running = next
    return next
  }

  private async pass({ topics, force = false }: CleanerRunOptions): Promise<CleanReport[]> {
    const names = topics ?? (await this.log.admin().listTopics())
    const reports: CleanReport[] = []
    for (const name of names) {
      const meta = await this.log.topic(name, true)
      for (let partition = 0; partition < meta.numPartitions; partition++) {
        if (this.log.isClosed) return reports
        const report: CleanReport = {
          topic: name,
          partition,
          deletedSegments: 0,
          logStartOffset: 0,
          compaction: null,
        }
        await this.rollIdle(name, partition, meta.config)
        if (hasRetention(meta.config))
          report.deletedSegments = await this.retain(name, partition, meta.config)
        if (isCompacted(meta.config))
          report.compaction = await this.compact(name, partition, meta.config, force)
        const state = await this.log.storage.read(['partitions'], (tx) =>
          tx.get('partitions', [name, partition]),
        )
        report.logStartOffset = state?.logStartOffset ?? 0
        reports.push(report)
        await nextTask()
      }
    }
    return reports
  }

  /**
   * Rolls an active segment that is segment.ms old. Kafka rolls only inside an append, which is
   * enough for a broker that is written to all day; a browser's log may go quiet for days, and
   * its whole tail would then sit in the active segment, which compaction never touches. The
   * segment is the one the next append would roll anyway (planAppend's age rule, the same clock),
   * so this only moves that roll earlier; an empty segment never rolls.
   */
  private async rollIdle(topic: string, partition: number, config: TopicConfig): Promise<void> {
    const now = this.log.clock()
    const due = (state: PartitionRow) => agedOut(state.active, config, now)
    // Decided in a read-only transaction first: most passes roll nothing (see retain).
    const peek = await this.log.storage.read(['partitions'], (tx) =>
      tx.get('partitions', [topic, partition]),
    )
    if (!peek || !due(peek)) return
    await rollPartitions(this.log.storage, topic, [partition], now, { due })
  }

  /** Deletes whole segments, oldest first, by time and by size; advances the log start offset. */
  private async retain(topic: string, partition: number, config: TopicConfig): Promise<number> {
    const retentionMs = config['retention.ms']
    const retentionBytes = config['retention.bytes']
    if (retentionMs < 0 && retentionBytes < 0) return 0
    const now = this.log.clock()
    const read = (tx: ReadTx) =>
      Promise.all([
        tx.get('partitions', [topic, partition]),
        tx.getAll('segments', topicRange(topic, partition)),
      ])
    /** How many of the oldest segments retention removes, and the bytes left. */
    const plan = (state: PartitionRow, closed: SegmentRow[]) => {
      const segments = [...closed, state.active]
      let total = state.bytes
      let count = 0
      for (const segment of segments) {
        if (segment.records === 0) break
        const expired = retentionMs >= 0 && segment.maxTimestamp < now - retentionMs
        // Kafka's rule: delete while what is left stays at least retention.bytes.
        const oversize = retentionBytes >= 0 && total - segment.bytes >= retentionBytes
        if (!expired && !oversize) break
        total -= segment.bytes
        count++
      }
      return { segments, total, count }
    }
    // Decide in a read-only transaction: a write one would queue behind, and hold up, appends
    // in every tab, every time the cleaner passes with nothing to delete.
    const [peek, peekClosed] = await this.log.storage.read(['partitions', 'segments'], read)
    if (!peek || plan(peek, peekClosed).count === 0) return 0
    return this.log.storage.write(['partitions', 'segments', 'batches'], async (tx) => {
      const [state, closed] = await read(tx)
      if (!state) return 0
      const { segments, total, count } = plan(state, closed)
      if (count === 0) return 0
      const doomed = segments.slice(0, count)
      for (const segment of doomed) {
        const upper = segment === state.active ? state.nextOffset : segment.lastOffset
        tx.deleteRange('batches', {
          lower: [topic, partition, segment.baseOffset],
          upper: [topic, partition, upper],
        })
        if (segment !== state.active) tx.delete('segments', [topic, partition, segment.baseOffset])
      }
      const activeGone = doomed.includes(state.active)
      const next: PartitionRow = {
        ...state,
        bytes: total,
        logStartOffset: Math.max(
          state.logStartOffset,
          segments[count]?.baseOffset ?? state.nextOffset,
        ),
        active: activeGone ? emptySegment(topic, partition, state.nextOffset, now) : state.active,
      }
      next.cleanedOffset = Math.max(next.cleanedOffset, next.logStartOffset)
      tx.put('partitions', next)
      return count
    })
  }

  /**
   * Keeps the latest record per key below the first uncleanable offset (the active segment, or the
   * first segment with records younger than min.compaction.lag.ms). Offsets never change.
   */
  private async compact(
    topic: string,
    partition: number,
    config: TopicConfig,
    force: boolean,
  ): Promise<CleanReport['compaction']> {
    const storage = this.log.storage
    const now = this.log.clock()
    const [state, segments] = await storage.read(['partitions', 'segments'], (tx) =>
      Promise.all([
        tx.get('partitions', [topic, partition]),
        tx.getAll('segments', topicRange(topic, partition)),
      ]),
    )
    if (!state) return null
    const lag = config['min.compaction.lag.ms']
    const young = lag > 0 ? segments.find((s) => s.maxTimestamp > now - lag) : undefined
    const firstUncleanable = young?.baseOffset ?? state.active.baseOffset
    const cleanable = segments.filter((s) => s.baseOffset < firstUncleanable)
    if (cleanable.length === 0) return null
    const dirtyStart = Math.max(state.cleanedOffset, state.logStartOffset)
    let dirty = 0
    let total = 0
    for (const s of cleanable) {
      total += s.bytes
      if (s.baseOffset >= dirtyStart) dirty += s.bytes
    }
    const tombstonesDue = cleanable.some(
      (s) => s.deleteHorizon !== undefined && s.deleteHorizon <= now,
    )
    const dirtyEnough = total > 0 && dirty / total > config['min.cleanable.dirty.ratio']
    if (!tombstonesDue && !(dirty > 0 && (force || dirtyEnough))) return null

    // The offset map: each key's latest offset in the dirty section, built in small read steps.
    const latest = new Map<string, number>()
    for (let from = dirtyStart; from < firstUncleanable;) {
      const rows = await storage.read(['batches'], (tx) =>
        tx.getAll(
          'batches',
          { lower: [topic, partition, from], upper: [topic, partition, firstUncleanable - 1] },
          SCAN_ROWS,
        ),
      )
      for (const row of rows) {
        const n = recordCount(row)
        const keys = rowKeys(row)
        for (let i = 0; i < n; i++) {
          const key = keys[i]
          const offset = recordOffset(row, i)
          if (key !== null && key !== undefined && offset >= dirtyStart)
            latest.set(keyIdentity(key), offset)
        }
      }
      if (rows.length < SCAN_ROWS) break
      from = rows.at(-1)!.lastOffset + 1
      await nextTask()
    }

    let removedRecords = 0
    for (let s = 0; s < cleanable.length; s++) {
      const last = s === cleanable.length - 1
      removedRecords += await this.cleanSegment(
        topic,
        partition,
        cleanable[s]!,
        latest,
        config,
        now,
        last ? firstUncleanable : undefined,
      )
      await nextTask()
    }
    return { cleanedUpTo: firstUncleanable, removedRecords }
  }

  /** Rewrites one segment without its superseded records, in one transaction; returns how many went. */
  private cleanSegment(
    topic: string,
    partition: number,
    segment: SegmentRow,
    latest: Map<string, number>,
    config: TopicConfig,
    now: number,
    checkpoint: number | undefined,
  ): Promise<number> {
    const horizonIfNew = now + config['delete.retention.ms']
    return this.log.storage.write(['partitions', 'segments', 'batches'], async (tx) => {
      const base = segment.baseOffset
      const [state, current, rows] = await Promise.all([
        tx.get('partitions', [topic, partition]),
        tx.get('segments', [topic, partition, base]),
        tx.getAll('batches', {
          lower: [topic, partition, base],
          upper: [topic, partition, segment.lastOffset],
        }),
      ])
      // Retention may have removed the segment since the cleaner looked.
      if (!state || !current) return 0
      const groups: {
        picks: Pick[]
        horizon: number | undefined
        bytes: number
      }[] = []
      let removed = 0
      let stamped = false
      let tombstonesTo = state.tombstonesRemovedTo ?? 0
      let group: (typeof groups)[number] | undefined
      for (const row of rows) {
        const n = recordCount(row)
        const column = valueColumn(row)
        for (let i = 0; i < n; i++) {
          const key = column.keys[i]
          const offset = recordOffset(row, i)
          const newest =
            key === null || key === undefined ? undefined : latest.get(keyIdentity(key))
          if (newest !== undefined && offset < newest) {
            removed++
            continue
          }
          let horizon: number | undefined
          if (isTombstone(column, i)) {
            // A tombstone lives delete.retention.ms past the first cleaning that kept it.
            if (row.deleteHorizon !== undefined && now >= row.deleteHorizon) {
              removed++
              tombstonesTo = Math.max(tombstonesTo, offset + 1)
              continue
            }
            horizon = row.deleteHorizon ?? horizonIfNew
            if (row.deleteHorizon === undefined) stamped = true
          }
          const size = row.bytes / n
          const fits =
            group &&
            group.bytes + size <= this.log.maxRowBytes &&
            (horizon === undefined || group.horizon === undefined || group.horizon === horizon)
          if (!fits) groups.push((group = { picks: [], horizon: undefined, bytes: 0 }))
          group!.picks.push({ row, column, index: i })
          group!.bytes += size
          if (horizon !== undefined) group!.horizon = horizon
        }
      }
      const batches = groups.map((g) => rebuildBatch(topic, partition, g.picks, g.horizon))
      if (removed === 0 && !stamped) {
        // Nothing to rewrite: only the checkpoint moves (if this is the last segment).
        if (checkpoint !== undefined && checkpoint > state.cleanedOffset) {
          tx.put('partitions', { ...state, cleanedOffset: checkpoint })
        }
        return 0
      }
      tx.deleteRange('batches', {
        lower: [topic, partition, base],
        upper: [topic, partition, segment.lastOffset],
      })
      let bytes = 0
      let records = 0
      let maxTimestamp = -Infinity
      let deleteHorizon: number | undefined
      for (const b of batches) {
        tx.put('batches', b)
        bytes += b.bytes
        records += recordCount(b)
        maxTimestamp = Math.max(maxTimestamp, b.maxTimestamp)
        if (b.deleteHorizon !== undefined)
          deleteHorizon = Math.min(deleteHorizon ?? Infinity, b.deleteHorizon)
      }
      if (records === 0) tx.delete('segments', [topic, partition, base])
      else {
        const next: SegmentRow = { ...current, bytes, records, maxTimestamp }
        if (deleteHorizon === undefined) delete next.deleteHorizon
        else next.deleteHorizon = deleteHorizon
        tx.put('segments', next)
      }
      tx.put('partitions', {
        ...state,
        ...(tombstonesTo > 0 ? { tombstonesRemovedTo: tombstonesTo } : {}),
        bytes: state.bytes - current.bytes + bytes,
        cleanedOffset:
          checkpoint === undefined
            ? state.cleanedOffset
            : Math.max(state.cleanedOffset, checkpoint),
      })
      return removed
    })
  }
}
