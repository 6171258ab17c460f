import type { KeyRange } from '../worker/views/viewWire.ts'
import type { ViewEntry, ViewState, WindowEntry } from '../zustand/index.ts'
import { shallowArray, useStoreSelector } from './useStoreSelector.ts'
import { useViewStore } from './useViewStore.ts'

/**
 * A slice of a view: `useView('totals', (s) => s.get('ada'))`. Re-renders only when the slice
 * changed (by `equality`, default Object.is). The view's whole state is `useView(name, (s) => s)`.
 */
export function useView<K = unknown, V = unknown, S = ViewState<K, V>>(
  name: string,
  selector: (state: ViewState<K, V>) => S,
  equality?: (a: S, b: S) => boolean,
): S {
  return useStoreSelector(useViewStore<K, V>(name), selector, equality)
}

/** One key's value (undefined while absent or loading); re-renders only when that key changes. */
export function useViewKey<K = unknown, V = unknown>(name: string, key: K): V | undefined {
  return useStoreSelector(useViewStore<K, V>(name), (s) => s.get(key))
}

/**
 * The entries in a key range, in key order. Only that range is mirrored into the page (a ranged
 * store), and the component re-renders only when an entry in it changed.
 */
export function useViewRange<K = unknown, V = unknown>(
  name: string,
  range: KeyRange<K>,
): ViewEntry<K, V>[] {
  const store = useViewStore<K, V>(name, { range })
  return useStoreSelector(store, (s) => s.all(), shallowArray)
}

/** The windows of `key` in a windowed view (a windowed count, reduce or aggregate), by start. */
export function useWindows<K = unknown, V = unknown>(name: string, key: K): WindowEntry<V>[] {
  const store = useViewStore<{ key: K; window: { start: number; end: number } }, V>(name)
  return useStoreSelector(store, (s) => s.windows(key), shallowWindows)
}

const shallowWindows = <V>(a: WindowEntry<V>[], b: WindowEntry<V>[]): boolean =>
  a.length === b.length &&
  a.every(
    (w, i) =>
      w.value === b[i]!.value &&
      w.window.start === b[i]!.window.start &&
      w.window.end === b[i]!.window.end,
  )
