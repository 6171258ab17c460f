import { ChunkedMap } from './ChunkedMap.ts'
import { forEachSnapshotEntry } from '../worker/views/viewWire.ts'
import {
  idBounds,
  keyOfText,
  keyOrderId,
  lowerBound,
  textOrderId,
  windowsPrefix,
} from '../worker/views/viewKeys.ts'
import type {
  DiffMessage,
  KeyRange,
  PendingValue,
  SnapshotMessage,
} from '../worker/views/viewWire.ts'

/** One entry of a view. Unchanged entries keep their object from state to state. */
export interface ViewEntry<K, V> {
  key: K
  value: V
  /** The timestamp of the update that wrote it (the record's, as the streams store keeps it). */
  timestamp: number
}

/** A window of a windowed view (TimeWindows: [start, end); SessionWindows: [start, end]). */
export interface WindowEntry<V> {
  window: { start: number; end: number }
  value: V
  timestamp: number
}

/**
 * 'loading': no snapshot yet (the state is empty). 'live': following the worker's diffs.
 * 'error': the worker could not follow the changelog; `error` says why, the data is the last state.
 */
export type ViewStatus = 'loading' | 'live' | 'error'

/**
 * A view's state as a zustand store holds it: immutable, a new object per applied diff, entries
 * unchanged by a diff shared with the previous state (so selectors can compare by reference).
 * Keys compare as the streams stores compare them: strings by themselves, first; other keys by
 * their JSON text.
 */
export class ViewState<K = unknown, V = unknown> {
  private constructor(
    /**
     * Entries by key order id (viewKeys.ts). Null on a state made from a snapshot until something
     * needs it (a diff): building 100,000 keys' map took ~80 ms of the page's boot, and the first
     * render needs only the sorted entries below.
     */
    private map: ChunkedMap<ViewEntry<K, V>> | null,
    /** Next changelog offset per partition that this state reflects. */
    readonly offsets: readonly number[],
    readonly status: ViewStatus,
    readonly error: { code: string; message: string } | null,
    /** The ids in key order, when known (always when `map` is null). */
    private sorted: string[] | null,
    /** The entries in key order, beside `sorted`: a snapshot's state until its first diff. */
    private readonly list: ViewEntry<K, V>[] | null = null,
  ) {}

  static empty<K, V>(): ViewState<K, V> {
    return new ViewState<K, V>(null, [], 'loading', null, [], [])
  }

  static fromSnapshot<K, V>(snapshot: SnapshotMessage): ViewState<K, V> {
    const ids: string[] = []
    const list: ViewEntry<K, V>[] = []
    let ordered = true
    forEachSnapshotEntry(snapshot, (text, value, timestamp) => {
      // One parse per key (none for a plain string key): the id follows from the key.
      const key = keyOfText(text) as K
      const id = typeof key === 'string' ? `s${key}` : `j${text}`
      if (ordered && ids.length > 0 && !(ids[ids.length - 1]! < id)) ordered = false
      ids.push(id)
      list.push({ key, value: value as V, timestamp })
    })
    // The worker sends snapshots in key order: then the page needs no sort and no map yet.
    if (ordered) return new ViewState(null, snapshot.offsets, 'live', null, ids, list)
    const map = ChunkedMap.from(ids.map((id, i) => [id, list[i]!] as const))
    return new ViewState(map, snapshot.offsets, 'live', null, null)
  }

  /**
   * Builds the map of a snapshot's state ahead of its first diff (ViewSubscription calls it when
   * the page is idle), so that the first send after boot does not pay for it.
   */
  prepare(): void {
    this.mapOf()
  }

  /** Set on a state with pending changes on top: the state they are on top of. */
  private base: ViewState<K, V> | null = null
  private pendingIds: ReadonlySet<string> = new Set()

  /**
   * The state with only confirmed records applied: without the local sends to a synced topic
   * that the server has not confirmed yet. Where nothing is pending it is the state itself.
   */
  get confirmed(): ViewState<K, V> {
    return this.base ?? this
  }

  /** How many keys differ because of records not yet confirmed. */
  get pendingCount(): number {
    return this.pendingIds.size
  }

  /** Whether this key's entry comes from records the server has not confirmed yet. */
  isPending(key: K): boolean {
    return this.pendingIds.has(keyOrderId(key))
  }

  /**
   * This (confirmed) state with a pending overlay on top: keys' would-be values. `confirmed`
   * of the result gives this state back; an empty overlay gives this state itself.
   */
  withPending(pending: PendingValue): ViewState<K, V> {
    const base = this.confirmed
    if (pending.puts.length === 0 && pending.deletes.length === 0) return base
    const next = base.apply({
      type: 'diff',
      from: base.offsets as number[],
      to: base.offsets as number[],
      puts: pending.puts,
      deletes: pending.deletes,
    })
    next.base = base
    next.pendingIds = new Set([
      ...pending.puts.map(([text]) => textOrderId(text)),
      ...pending.deletes.map(textOrderId),
    ])
    return next
  }

  get size(): number {
    return this.map ? this.map.size : this.list!.length
  }

  get(key: K): V | undefined {
    return this.entryOf(keyOrderId(key))?.value
  }

  getEntry(key: K): ViewEntry<K, V> | undefined {
    return this.entryOf(keyOrderId(key))
  }

  has(key: K): boolean {
    return this.entryOf(keyOrderId(key)) !== undefined
  }

  /** Every entry in no particular order: cheaper than all(), which sorts the keys once a state. */
  *entries(): IterableIterator<ViewEntry<K, V>> {
    if (this.map) yield* this.map.values()
    else yield* this.list!
  }

  /** Every entry, in key order. */
  all(): ViewEntry<K, V>[] {
    if (!this.map) return this.list!.slice()
    const map = this.map
    return this.sortedIds().map((id) => map.get(id)!)
  }

  /** Entries with keys in [from, to] (either end open), in key order. */
  range(range: KeyRange<K>): ViewEntry<K, V>[] {
    const { lo, hi } = idBounds(range)
    return this.between(lo ?? '', hi)
  }

  /** The windows of `key` in a windowed view (keys `{ key, window }`), by window start. */
  windows<WK>(this: ViewState<{ key: WK; window: { start: number; end: number } }, V>, key: WK) {
    const prefix = windowsPrefix(key)
    return this.between(prefix, undefined, prefix)
      .map(({ key: k, value, timestamp }): WindowEntry<V> => ({
        window: k.window,
        value,
        timestamp,
      }))
      .sort((a, b) => a.window.start - b.window.start || a.window.end - b.window.end)
  }

  /** The state after `diff` (which must start at this state's offsets: see ViewSubscription). */
  apply(diff: DiffMessage): ViewState<K, V> {
    const { map, added, removed } = this.mapOf().update(
      diff.puts.map(([text, value, timestamp]) => [
        textOrderId(text),
        (old: ViewEntry<K, V> | undefined) => ({
          key: old ? old.key : (keyOfText(text) as K),
          value: value as V,
          timestamp,
        }),
      ]),
      diff.deletes.map(textOrderId),
    )
    return new ViewState(map, diff.to, 'live', null, this.resorted(added, new Set(removed)))
  }

  /** The same data, marked as no longer following the worker. */
  failed(error: { code: string; message: string }): ViewState<K, V> {
    const state = new ViewState(this.map, this.offsets, 'error', error, this.sorted, this.list)
    state.base = this.base
    state.pendingIds = this.pendingIds
    return state
  }

  /** Entries whose ids are in [lo, hi] and start with `prefix`. */
  private between(lo: string, hi: string | undefined, prefix?: string): ViewEntry<K, V>[] {
    const ids = this.sortedIds()
    const out: ViewEntry<K, V>[] = []
    for (let i = lowerBound(ids, lo); i < ids.length; i++) {
      const id = ids[i]!
      if ((hi !== undefined && id > hi) || (prefix !== undefined && !id.startsWith(prefix))) break
      out.push(this.list ? this.list[i]! : this.map!.get(id)!)
    }
    return out
  }

  private sortedIds(): string[] {
    this.sorted ??= [...this.map!.keys()].sort()
    return this.sorted
  }

  private mapOf(): ChunkedMap<ViewEntry<K, V>> {
    const list = this.list!
    this.map ??= ChunkedMap.from(this.sorted!.map((id, i) => [id, list[i]!] as const))
    return this.map
  }

  /** The entry of an id: from the map, or by binary search over a snapshot's sorted ids. */
  private entryOf(id: string): ViewEntry<K, V> | undefined {
    if (this.map) return this.map.get(id)
    const i = lowerBound(this.sorted!, id)
    return this.sorted![i] === id ? this.list![i] : undefined
  }

  /** The key order after a diff, kept incrementally when it was known (range hooks ask per diff). */
  private resorted(added: string[], removed: Set<string>): string[] | null {
    if (!this.sorted) return null
    if (added.length === 0 && removed.size === 0) return this.sorted
    // Many new keys: sorting again is cheaper than inserting one by one.
    if (added.length > 64) return null
    const ids = removed.size ? this.sorted.filter((id) => !removed.has(id)) : [...this.sorted]
    for (const id of added) ids.splice(lowerBound(ids, id), 0, id)
    return ids
  }
}
