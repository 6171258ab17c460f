import { hasRetention, isCompacted } from '../log/TopicConfig.ts'
import type { ServerStorage, StoredRecord, StreamRow } from './ServerStorage.ts'
import { topicConfigOf } from './topicRecords.ts'

export interface PartitionCleanReport {
  path: string
  /** The first offset still readable; reads below it get 410. */
  startOffset: number
  removedByRetention: number
  removedByCompaction: number
}

const decoder = new TextDecoder()
const isTombstone = (r: StoredRecord): boolean => {
  const message = JSON.parse(decoder.decode(r.data)) as { value?: unknown } | null
  return message !== null && typeof message === 'object' && message.value === null
}

/**
 * Retention and compaction of one topic-partition, Kafka's rules at record granularity (the server
 * keeps no segments): retention drops the oldest records past `retention.ms` / `retention.bytes`
 * and moves the start offset; compaction keeps the latest record per key (offsets unchanged) among
 * records older than `min.compaction.lag.ms`, and drops tombstones once `delete.retention.ms` old.
 * Runs inside the caller's transaction.
 */
export function cleanPartition(
  storage: ServerStorage,
  row: StreamRow,
  now: number,
): PartitionCleanReport {
  const config = topicConfigOf(row)
  const report = {
    path: row.path,
    startOffset: row.startOffset,
    removedByRetention: 0,
    removedByCompaction: 0,
  }
  if (!config) return report
  let records = storage.readRecords(row.id, row.startOffset, row.nextOffset, Infinity)
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
      const start = records[drop]?.offset ?? row.nextOffset
      storage.deleteRecordsBelow(row.id, start)
      storage.updateStream({ ...row, startOffset: start })
      report.startOffset = start
      report.removedByRetention = drop
      records = records.slice(drop)
    }
  }
  if (isCompacted(config)) {
    const lag = config['min.compaction.lag.ms']
    const eligible = records.filter((r) => r.timestamp <= now - lag && r.key !== null)
    const latest = new Map<string, number>()
    for (const r of eligible) latest.set(r.key!, r.offset)
    const gone = eligible
      .filter(
        (r) =>
          latest.get(r.key!) !== r.offset ||
          (isTombstone(r) && r.timestamp <= now - config['delete.retention.ms']),
      )
      .map((r) => r.offset)
    storage.deleteRecords(row.id, gone)
    report.removedByCompaction = gone.length
  }
  return report
}
