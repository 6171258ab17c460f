import { useCallback, useRef, useSyncExternalStore } from 'react'
import type { ViewStore, ViewState } from '../zustand/index.ts'

/**
 * A slice of a store's state; the component re-renders only when the slice changed by
 * `equality` (default Object.is). The last slice is kept, so a selector that builds a new array
 * or object each time still yields the same one while it is equal.
 */
export function useStoreSelector<K, V, S>(
  store: ViewStore<K, V>,
  selector: (state: ViewState<K, V>) => S,
  equality: (a: S, b: S) => boolean = Object.is,
): S {
  const last = useRef<{ state: ViewState<K, V>; selector: unknown; slice: S } | null>(null)
  const getSlice = useCallback((): S => {
    const state = store.getState()
    const prev = last.current
    if (prev && prev.state === state && prev.selector === selector) return prev.slice
    const slice = selector(state)
    if (prev && equality(prev.slice, slice)) {
      last.current = { state, selector, slice: prev.slice }
      return prev.slice
    }
    last.current = { state, selector, slice }
    return slice
  }, [store, selector, equality])
  return useSyncExternalStore(store.subscribe, getSlice, getSlice)
}

/** Arrays with the same elements (by reference): entries unchanged by a diff keep their objects. */
export function shallowArray<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false
  return true
}
