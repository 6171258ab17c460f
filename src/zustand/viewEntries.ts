import type { WireEntry } from '../worker/views/viewWire.ts'
import type { ViewEntry } from './ViewState.ts'

/** Entries as the worker sends them (key as its JSON text) as the page reads them. */
export const viewEntries = <K, V>(wire: readonly WireEntry[]): ViewEntry<K, V>[] =>
  wire.map(([text, value, timestamp]) => ({
    key: JSON.parse(text) as K,
    value: value as V,
    timestamp,
  }))
