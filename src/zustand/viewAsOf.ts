import type { AsOf } from '../worker/views/viewWire.ts'
import type { Client } from '../worker/connect.ts'
import { remoteViews } from './remoteViews.ts'
import { viewEntries } from './viewEntries.ts'
import type { ViewEntry } from './ViewState.ts'

export interface ViewAsOfResult<K, V> {
  /** The view's entries then, in key order. */
  entries: ViewEntry<K, V>[]
  /** Per input topic, the next offset per partition the replay took (a timestamp resolved). */
  offsets: Record<string, number[]>
}

/**
 * A view of `serve({ streams })`'s topology as it was after the input up to `at`: offsets per
 * input topic-partition (`{ offsets: { spend: [120, 97] } }`) or a time (`{ timestamp }`: each
 * partition up to its first record stamped later). The worker replays the input log through the
 * topology on scratch stores, so this costs a read of the input up to the point; the live view,
 * the topology and its offsets are untouched. Nothing is kept or followed: a plain result, not a
 * store. Bad input (an unknown view, offsets out of range, a negative time) rejects with an
 * InvalidArgumentError.
 *
 *   const { entries } = await viewAsOf(client, 'balances', { timestamp: Date.parse('2026-01-01') })
 */
export async function viewAsOf<K = unknown, V = unknown>(
  client: Client,
  name: string,
  at: AsOf,
): Promise<ViewAsOfResult<K, V>> {
  const result = await remoteViews(client).asOf(name, at)
  return {
    entries: viewEntries<K, V>(result.entries),
    offsets: result.offsets,
  }
}
