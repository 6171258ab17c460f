/**
 * The messages a worker sends a page about one view, and what the page asks for: the wire between
 * the worker's view mirror and the page's stores, imported by both sides (as comlink's protocol.ts).
 *
 * Keys travel as the changelog's key text (`JSON.stringify(storeKey)`), values as stored. Offsets
 * are per changelog partition: `offsets[p]` is the next offset of partition p a state reflects.
 */

/** One key's entry: [key text, value, timestamp of the update]. */
export type WireEntry = [keyText: string, value: unknown, timestamp: number]

/** An input point: offsets per input topic-partition, or a time (streams/asOf.ts). */
export type { AsOf } from '../../streams/asOf.ts'

/** A view as of an input point (views.asOf): its entries in key order, and the input offsets. */
export interface ViewAsOf {
  entries: WireEntry[]
  /** Per input topic, the next offset per partition the replay took. */
  offsets: Record<string, number[]>
}

/**
 * The whole view (or the subscribed range) as of `offsets`: where a subscription starts. Entries
 * come in key order (viewKeys.ts), packed in chunks column by column, as store snapshots keep
 * them (TopicSnapshot): a structured clone of 100,000 `[key, value, timestamp]` arrays cost the
 * page ~100-200 ms to deserialise at boot; strings and typed arrays clone as a copy, and a view
 * booting from a snapshot sends its stored chunks as they are (`packSnapshot` and
 * `snapshotEntries` are the two ends).
 */
export interface SnapshotMessage {
  type: 'snapshot'
  chunks: SnapshotChunk[]
  offsets: number[]
}

/** A run of entries: their key texts and values as JSON arrays, and their timestamps. */
export interface SnapshotChunk {
  keys: string
  values: string
  timestamps: Float64Array
}

/**
 * What changed between two states: apply it to the state at `from` to get the state at `to`. A key
 * is in `puts` or `deletes`, never both; a page whose offsets are not `from` has missed something.
 */
export interface DiffMessage {
  type: 'diff'
  from: number[]
  to: number[]
  puts: WireEntry[]
  deletes: string[]
}

/** The view cannot follow its changelog any more (it was deleted, say); the page keeps its state. */
export interface ErrorMessage {
  type: 'error'
  code: string
  message: string
}

/**
 * What the view would be with the records the server has not confirmed yet (sync's pending local
 * sends): keys' would-be values, over the confirmed state. Each replaces the one before; empty
 * when nothing is pending.
 */
export interface PendingValue {
  puts: WireEntry[]
  deletes: string[]
}

export interface PendingMessage extends PendingValue {
  type: 'pending'
}

export type ViewMessage = SnapshotMessage | DiffMessage | ErrorMessage | PendingMessage

/** A key range, bounds inclusive and compared as the store compares keys (see viewKeys.ts). */
export interface KeyRange<K = unknown> {
  from?: K
  to?: K
}

export interface SubscribeOptions {
  /** Mirror only these keys: snapshot and diffs are limited to the range. */
  range?: KeyRange
}

/** One page of a paged query (`queryView`). */
export interface ViewQuery<K = unknown> extends KeyRange<K> {
  /** Continue after this key text (a previous page's `next`). */
  after?: string
  /** Entries per page (default 100, at most 10,000). */
  limit?: number
}

export interface ViewPage {
  entries: WireEntry[]
  /** Pass as `after` for the next page; null when this page reached the end of the range. */
  next: string | null
  offsets: number[]
}

/**
 * A snapshot message of `entries` (in key order), as one chunk. Values must be JSON (a view's
 * values come from its changelog, whose serde is JSON).
 */
export function packSnapshot(entries: readonly WireEntry[], offsets: number[]): SnapshotMessage {
  const keys: string[] = new Array<string>(entries.length)
  const values: unknown[] = new Array<unknown>(entries.length)
  const timestamps = new Float64Array(entries.length)
  for (let i = 0; i < entries.length; i++) {
    const [key, value, timestamp] = entries[i]!
    keys[i] = key
    values[i] = value
    timestamps[i] = timestamp
  }
  const chunk = { keys: JSON.stringify(keys), values: JSON.stringify(values), timestamps }
  return { type: 'snapshot', chunks: [chunk], offsets }
}

/** Calls `each` with every entry of a snapshot message, in order. */
export function forEachSnapshotEntry(
  message: SnapshotMessage,
  each: (keyText: string, value: unknown, timestamp: number) => void,
): void {
  for (const chunk of message.chunks) {
    const keys = JSON.parse(chunk.keys) as string[]
    const values = JSON.parse(chunk.values) as unknown[]
    for (let i = 0; i < keys.length; i++) each(keys[i]!, values[i], chunk.timestamps[i]!)
  }
}

/** The entries of a snapshot message, unpacked. */
export function snapshotEntries(message: SnapshotMessage): WireEntry[] {
  const entries: WireEntry[] = []
  forEachSnapshotEntry(message, (key, value, timestamp) => entries.push([key, value, timestamp]))
  return entries
}
