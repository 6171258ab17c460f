import type { ViewQuery } from '../worker/views/viewWire.ts'
import type { Client } from '../worker/connect.ts'
import { remoteViews } from './remoteViews.ts'
import { viewEntries } from './viewEntries.ts'
import type { ViewEntry } from './ViewState.ts'

export interface ViewPageResult<K, V> {
  entries: ViewEntry<K, V>[]
  /** Pass as `after` to get the next page; null at the end of the range. */
  next: string | null
  /** The changelog offsets the page was read at. */
  offsets: number[]
}

/**
 * One page of a view, in key order, read from the worker's mirror: for views too large to mirror
 * into the page whole. Nothing is kept or followed; ask again (or open a ranged store) to see
 * changes.
 *
 *   let page = await queryView(client, 'totals', { from: 'a', to: 'b', limit: 50 })
 *   while (page.next) page = await queryView(client, 'totals', { after: page.next, limit: 50 })
 */
export async function queryView<K = unknown, V = unknown>(
  client: Client,
  name: string,
  query: ViewQuery<K> = {},
): Promise<ViewPageResult<K, V>> {
  const page = await remoteViews(client).query(name, query)
  return {
    entries: viewEntries<K, V>(page.entries),
    next: page.next,
    offsets: page.offsets,
  }
}
