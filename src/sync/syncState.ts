import type { Log } from '../log/Log.ts'

/** Where a synced topic's local sends wait for the server: same partitions, never compacted. */
export const outboxTopic = (topic: string): string => `__outbox.${topic}`

/** Groups whose committed offsets on the outbox are sync's durable state (one row a partition). */
export const PUSHED = '__duality-sync-pushed'
export const CONFIRMED = '__duality-sync-confirmed'
export const REMOTE = '__duality-sync-remote'

/** The header a pushed record carries: which producer sent it from which outbox offset. */
export const ORIGIN_HEADER = 'duality-origin'

/**
 * An outbox partition's producer, kept in the PUSHED group's offset metadata so that a retry
 * after a crash or reload resends the same batch with the same coordinates (the server then
 * recognises it as a duplicate). `inflight` is written before a batch is sent.
 */
export interface PushState {
  producerId: string
  epoch: number
  /** The sequence number of the next batch. */
  seq: number
  inflight: { seq: number; end: number } | null
  /**
   * Outbox offsets the server refused (they never come back): not pending any more, and skipped
   * when the confirmed position reaches them.
   */
  rejected: number[]
}

export interface PartitionSyncState {
  /** Outbox records below this offset were acknowledged by the server. */
  pushed: number
  /** Outbox records below this offset came back from the server (or were refused by it). */
  confirmed: number
  push: PushState | null
}

export async function readSyncState(
  log: Log,
  topic: string,
  partition: number,
): Promise<PartitionSyncState> {
  const admin = log.admin()
  const outbox = outboxTopic(topic)
  const row = async (groupId: string) => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [outbox] })
    return t!.partitions.find((p) => p.partition === partition)!
  }
  const [pushed, confirmed] = await Promise.all([row(PUSHED), row(CONFIRMED)])
  return {
    pushed: Math.max(0, pushed.offset),
    confirmed: Math.max(0, confirmed.offset),
    push: pushed.metadata ? (JSON.parse(pushed.metadata) as PushState) : null,
  }
}

export async function writePushState(
  log: Log,
  topic: string,
  partition: number,
  pushed: number,
  push: PushState,
): Promise<void> {
  await log.admin().setOffsets({
    groupId: PUSHED,
    topic: outboxTopic(topic),
    partitions: [{ partition, offset: pushed, metadata: JSON.stringify(push) }],
  })
}

/** Parses an origin header: the producer id and the outbox offset it was pushed from. */
export function parseOrigin(value: unknown): { producerId: string; offset: number } | null {
  if (typeof value !== 'string') return null
  const at = value.lastIndexOf(':')
  const offset = Number(value.slice(at + 1))
  if (at <= 0 || !Number.isSafeInteger(offset)) return null
  return { producerId: value.slice(0, at), offset }
}
