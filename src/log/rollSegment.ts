import type { LogStorage, PartitionRow, SegmentRow } from './LogStorage.ts'
import { emptySegment } from './planAppend.ts'

/** A partition head after a roll, and the segment that was active and is closed now. */
export interface Roll {
  partition: PartitionRow
  closed: SegmentRow
}

/**
 * Closes a partition's active segment and opens an empty one at the log end (Kafka's
 * `UnifiedLog.roll`). An empty active segment does not roll: closing it would make a segment of
 * nothing, and Kafka's roll of an empty active segment leaves the log as it was. Pure.
 */
export function rollSegment(state: PartitionRow, now: number): Roll | null {
  if (state.active.records === 0) return null
  return {
    closed: state.active,
    partition: {
      ...state,
      active: emptySegment(state.topic, state.partition, state.nextOffset, now),
    },
  }
}

/**
 * Rolls partitions of one topic in one short transaction, reading their heads inside it, so it is
 * safe beside appends from any tab, and all of them roll or none. `due` decides on each head as
 * read (the cleaner rolls only a segment segment.ms old). Returns each partition's head after the
 * call and whether it rolled, or `null`, with nothing written, when a partition row is gone or
 * belongs to another topic of that name (`topicId`: the topic was deleted, perhaps re-created).
 */
export function rollPartitions(
  storage: LogStorage,
  topic: string,
  partitions: readonly number[],
  now: number,
  options: { topicId?: string; due?: (state: PartitionRow) => boolean } = {},
): Promise<{ head: PartitionRow; rolled: boolean }[] | null> {
  const { topicId, due = () => true } = options
  return storage.write(['partitions', 'segments'], async (tx) => {
    const states = await Promise.all(partitions.map((p) => tx.get('partitions', [topic, p])))
    if (states.some((s) => !s || (topicId !== undefined && s.topicId !== topicId))) return null
    return states.map((state) => {
      const roll = due(state!) ? rollSegment(state!, now) : null
      if (!roll) return { head: state!, rolled: false }
      tx.put('segments', roll.closed)
      tx.put('partitions', roll.partition)
      return { head: roll.partition, rolled: true }
    })
  })
}
