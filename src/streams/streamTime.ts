import type { KeyValueStore } from './KeyValueStore.ts'

/**
 * Stream time, Kafka's clock for windows, grace and joins: the largest record timestamp a
 * processor has seen. It decides what is closed, so it is state: each processor keeps it in its
 * meta store (changelogged with the rest), and reads it back after a restore.
 */
export const restoreStreamTime = (meta: KeyValueStore): number =>
  (meta.get('streamTime') as number | null) ?? -Infinity

/** The stream time after a record at `timestamp`, written to `meta` when it moved. */
export function advanceStreamTime(meta: KeyValueStore, current: number, timestamp: number): number {
  if (timestamp <= current) return current
  meta.put('streamTime', timestamp, timestamp)
  return timestamp
}
