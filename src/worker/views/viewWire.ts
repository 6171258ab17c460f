/**
 * The messages a worker sends a page about one view, and what the page asks for: the wire between
 * the worker's view mirror and the page's stores, imported by both sides (as comlink's protocol.ts).
 *
 * Keys travel as the changelog's key text (`JSON.stringify(storeKey)`), values as stored. Offsets
 * are per changelog partition: `offsets[p]` is the next offset of partition p a state reflects.
 */

/** One key's entry: [key text, value, timestamp of the update]. */
export type WireEntry = [keyText: string, value: unknown, timestamp: number]

/**
 * The whole view (or the subscribed range) as of `offsets`: where a subscription starts. Entries
 * come in key order (viewKeys.ts), packed column by column (`packSnapshot`, `snapshotEntries`):
 * a structured clone of 100,000 `[key, value, timestamp]` arrays cost the page ~100-200 ms to
 * deserialise at boot, three strings and a typed array cost it a copy and two JSON.parse calls.
 */
export interface SnapshotMessage {
  type: 'snapshot'
  /** The entries' key texts, one per line (JSON text has no raw line break). */
  keys: string
  /** JSON array text of the entries' values, in the same order. */
  values: string
  /** The entries' timestamps, in the same order. */
  timestamps: Float64Array
  offsets: number[]
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
 * A snapshot message of `entries` (in key order). Values must be JSON (a view's values come from
 * its changelog, whose serde is JSON); a key text holding a raw line break (a key not written by
 * JSON.stringify) is refused rather than split wrongly.
 */
export function packSnapshot(entries: readonly WireEntry[], offsets: number[]): SnapshotMessage {
  const keys: string[] = new Array<string>(entries.length)
  const values: unknown[] = new Array<unknown>(entries.length)
  const timestamps = new Float64Array(entries.length)
  for (let i = 0; i < entries.length; i++) {
    const [key, value, timestamp] = entries[i]!
    if (key.includes('\n'))
      throw new TypeError(`A view key must be JSON text without raw line breaks: ${key}`)
    keys[i] = key
    values[i] = value
    timestamps[i] = timestamp
  }
  return {
    type: 'snapshot',
    keys: keys.join('\n'),
    values: JSON.stringify(values),
    timestamps,
    offsets,
  }
}

/** The key texts of a snapshot message, in its order. */
export const snapshotKeys = (message: SnapshotMessage): string[] =>
  message.keys === '' ? [] : message.keys.split('\n')

/** The entries of a snapshot message, unpacked. */
export function snapshotEntries(message: SnapshotMessage): WireEntry[] {
  const keys = snapshotKeys(message)
  const values = JSON.parse(message.values) as unknown[]
  return keys.map((key, i) => [key, values[i], message.timestamps[i]!])
}
