import { createStore, type StoreApi } from 'zustand/vanilla'
import type { KeyRange } from '../worker/views/viewWire.ts'
import type { Client } from '../worker/connect.ts'
import { ViewSubscription } from './ViewSubscription.ts'
import type { ViewState } from './ViewState.ts'

/**
 * A read-only zustand store whose state is a view of the worker: it has zustand's getState /
 * getInitialState / subscribe (so `useStore` from zustand, or any framework, can read it), but no
 * setState: the state changes only because the log changed.
 */
export interface ViewStore<K = unknown, V = unknown> extends Omit<
  StoreApi<ViewState<K, V>>,
  'setState'
> {
  /** The view's name in the worker. */
  readonly name: string
  /** Resolves once the store holds the worker's snapshot; rejects if the view cannot be opened. */
  readonly ready: Promise<void>
  /** Stops following the view (the shared subscription ends with the last store). */
  close(): void
}

export interface ViewStoreOptions<K> {
  /**
   * Mirror only the keys in this range (bounds inclusive, in the store's key order). Without it
   * the whole view is mirrored into the page; for views too large for that, use a range or
   * `queryView`'s pages. A ranged store's `offsets` move only with changes in its range.
   */
  range?: KeyRange<K>
}

/**
 * A zustand vanilla store mirroring the view `name` that the worker serves (`serve({ views })`):
 * it starts from the worker's snapshot and follows its diffs, at most one update per frame. Stores
 * of the same client, view and range share one subscription.
 *
 *   const totals = createViewStore<string, number>(client, 'totals')
 *   totals.subscribe((state) => render(state.get('ada')))
 */
export function createViewStore<K = unknown, V = unknown>(
  client: Client,
  name: string,
  options: ViewStoreOptions<K> = {},
): ViewStore<K, V> {
  const subscription = ViewSubscription.acquire(
    client,
    name,
    options.range ? { range: options.range } : {},
  )
  const initial = subscription.state as unknown as ViewState<K, V>
  const store = createStore<ViewState<K, V>>()(() => initial)
  const off = subscription.listen((state) =>
    store.setState(state as unknown as ViewState<K, V>, true),
  )
  let closed = false
  return {
    name,
    ready: subscription.ready,
    getState: store.getState,
    getInitialState: store.getInitialState,
    subscribe: store.subscribe,
    close() {
      if (closed) return
      closed = true
      off()
      subscription.release()
    },
  }
}
