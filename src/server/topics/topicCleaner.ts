import { hasRetention, isCompacted } from '../../log/TopicConfig.ts'
import type { StoredRecord, StreamRow } from '../engine/streamRows.ts'
import { topicConfigOf } from './topicRecords.ts'

export interface PartitionCleanReport {
  path: string
  /** The first offset still readable; reads below it get 410. */
  startOffset: number
  removedByRetention: number
  removedByCompaction: number
}

/** The report for a partition that was gone when its turn came (its topic deleted meanwhile). */
export const nothingCleaned = (path: string): PartitionCleanReport => ({
  path,
  startOffset: 0,
  removedByRetention: 0,
  removedByCompaction: 0,
})

/** What cleaning a partition does: move its start (retention) and delete records (compaction). */
export interface CleanPlan {
  report: PartitionCleanReport
  /** Records below this offset go and reads below it get 410; the row's start when unchanged. */
  startOffset: number
  /** Offsets (at or above `startOffset`) that compaction removes. */
  compacted: number[]
}

const decoder = new TextDecoder()
const isTombstone = (r: StoredRecord): boolean => {
  const message = JSON.parse(decoder.decode(r.data)) as { value?: unknown } | null
  return message !== null && typeof message === 'object' && message.value === null
}

/**
 * Retention and compaction of one topic-partition, Kafka's rules at record granularity (the server
 * keeps no segments): retention drops the oldest records past `retention.ms` / `retention.bytes`
 * and moves the start offset; compaction keeps the latest record per key (offsets unchanged) in the
 * prefix of records older than `min.compaction.lag.ms`, and drops tombstones once
 * `delete.retention.ms` old.
 * Pure: each backend applies the plan in its own way, so both clean by the same rules.
 * `records` are the partition's stored records from its start, in offset order, keys set.
 */
export function planCleaning(
  row: StreamRow,
  stored: readonly StoredRecord[],
  now: number,
): CleanPlan {
  const config = topicConfigOf(row)
  const report = {
    path: row.path,
    startOffset: row.startOffset,
    removedByRetention: 0,
    removedByCompaction: 0,
  }
  const plan: CleanPlan = { report, startOffset: row.startOffset, compacted: [] }
  if (!config) return plan
  let records = stored
  if (hasRetention(config)) {
    let drop = 0
    const ms = config['retention.ms']
    while (ms >= 0 && drop < records.length && records[drop]!.timestamp < now - ms) drop++
    const limit = config['retention.bytes']
    if (limit >= 0) {
      let bytes = records.reduce((n, r) => n + r.data.length, 0)
      for (let i = 0; i < drop; i++) bytes -= records[i]!.data.length
      while (drop < records.length && bytes > limit) bytes -= records[drop++]!.data.length
    }
    if (drop > 0) {
      plan.startOffset = records[drop]?.offset ?? row.nextOffset
      report.startOffset = plan.startOffset
      report.removedByRetention = drop
      records = records.slice(drop)
    }
  }
  if (isCompacted(config)) {
    // Kafka cleans a prefix of the log: everything from the first record younger than
    // min.compaction.lag.ms on stays as it is. Picking old-enough records wherever they stand
    // instead would let an old-stamped tombstone (client timestamps need not be in order) go
    // before the younger value it deleted, bringing that value back.
    const lag = config['min.compaction.lag.ms']
    const young = records.findIndex((r) => r.timestamp > now - lag)
    const eligible = (young < 0 ? records : records.slice(0, young)).filter((r) => r.key !== null)
    const latest = new Map<string, number>()
    for (const r of eligible) latest.set(r.key!, r.offset)
    plan.compacted = eligible
      .filter(
        (r) =>
          latest.get(r.key!) !== r.offset ||
          (isTombstone(r) && r.timestamp <= now - config['delete.retention.ms']),
      )
      .map((r) => r.offset)
    report.removedByCompaction = plan.compacted.length
  }
  return plan
}
