import { advanceStreamTime, restoreStreamTime } from './streamTime.ts'
import { type KeyValueStore, keyId } from './KeyValueStore.ts'
import type { JoinWindows } from './JoinWindows.ts'
import { createNode, type Change, type ProcessorNode, type StreamRecord } from './processor.ts'
import type { Topology } from './Topology.ts'
import { VersionedKeyValueStore } from './VersionedKeyValueStore.ts'

export type Joiner<V1, V2, VR> = (left: V1, right: V2) => VR

/**
 * Stream-table join: each stream record looks its key up in the table; table updates emit
 * nothing. Inner drops records without a match, left joins them with null. Null keys never join.
 *
 * Over a versioned table (KIP-914) a record meets the table's value as of its own timestamp,
 * not the latest one. With a grace period (`Joined.withGracePeriod`, KIP-923) stream records
 * wait in a buffer (a store, changelogged) until the stream side's time has passed theirs by the
 * grace period, then join in timestamp order (ties: by key, then in arrival order, as Kafka's
 * time-ordered buffer); a record already that late joins at once. Table updates that arrive within the grace period thus still reach the records
 * they are older than.
 */
export function streamTableJoin(
  name: string,
  table: KeyValueStore | VersionedKeyValueStore,
  joiner: Joiner<unknown, unknown, unknown>,
  left: boolean,
  keyOf?: (key: unknown, value: unknown) => unknown,
  grace?: { ms: number; topology: Topology },
): ProcessorNode {
  // A global table is looked up by what the key selector picks, whatever the record's own key.
  const global = keyOf !== undefined
  const lookupKey = keyOf ?? ((key: unknown) => key)
  const lookup = (key: unknown, timestamp: number): unknown =>
    table instanceof VersionedKeyValueStore
      ? (table.get(key, timestamp)?.value ?? null)
      : table.get(key)
  const join = (r: StreamRecord, emit: (record: StreamRecord) => void) => {
    // KIP-962 (Kafka 3.7): a left join keeps a record whose lookup key is null, joined with null.
    if ((r.key === null || r.key === undefined) && !global) {
      if (left) emit({ ...r, value: joiner(r.value, null) })
      return
    }
    const k = lookupKey(r.key, r.value)
    const other = k === null || k === undefined ? null : lookup(k, r.timestamp)
    if (other === null && !left) return
    emit({ ...r, value: joiner(r.value, other) })
  }
  if (!grace || grace.ms === 0) {
    return createNode(name, (r, emit) => {
      if (r.value === null || r.value === undefined) return
      join(r, emit)
    })
  }
  const { ms, topology } = grace
  const buffer = topology.store(`${name}-buffer`)
  const meta = topology.store(`${name}-meta`)
  interface Held {
    timestamp: number
    /** The record's key as the store compares keys (keyId). */
    id: string
    seq: number
    record: StreamRecord
  }
  const held: Held[] = []
  let streamTime = -Infinity
  // Kafka's buffer is keyed by (timestamp, key, sequence number): time order, then by key, then
  // in arrival order.
  const byTimeThenSeq = (a: Held, b: Held) =>
    a.timestamp - b.timestamp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || a.seq - b.seq
  topology.onRestore(() => {
    streamTime = restoreStreamTime(meta)
    held.length = 0
    for (const { key, value } of buffer.all()) {
      const [timestamp, seq] = key as [number, number]
      const record = value as StreamRecord
      held.push({ timestamp, id: keyId(record.key), seq, record })
    }
    held.sort(byTimeThenSeq)
  })
  return createNode(name, (r, emit) => {
    if (r.value === null || r.value === undefined) return
    streamTime = advanceStreamTime(meta, streamTime, r.timestamp)
    const seq = ((meta.get('seq') as number | null) ?? 0) + 1
    meta.put('seq', seq, r.timestamp)
    const item: Held = { timestamp: r.timestamp, id: keyId(r.key), seq, record: r }
    let i = held.length
    while (i > 0 && byTimeThenSeq(held[i - 1]!, item) > 0) i--
    held.splice(i, 0, item)
    buffer.put([item.timestamp, seq], r, r.timestamp)
    while (held.length > 0 && held[0]!.timestamp <= streamTime - ms) {
      const next = held.shift()!
      buffer.delete([next.timestamp, next.seq])
      join(next.record, emit)
    }
  })
}

/**
 * Table-table join (inner, left or outer), Kafka's semantics with caching off: an update on either
 * side recomputes the joined value for its key from the other side's current value, and forwards
 * the new and old joined values; a key that stops joining gets a tombstone.
 */
export function tableTableJoin(
  name: string,
  own: 'left' | 'right',
  other: KeyValueStore,
  joiner: Joiner<unknown, unknown, unknown>,
  kind: 'inner' | 'left' | 'outer',
  result: KeyValueStore,
): ProcessorNode {
  const join = (mine: unknown, theirs: unknown): unknown => {
    const [l, r] = own === 'left' ? [mine, theirs] : [theirs, mine]
    if (l === null && r === null) return null
    if (kind === 'inner' && (l === null || r === null)) return null
    if (kind === 'left' && l === null) return null
    return joiner(l, r)
  }
  return createNode(name, (rec, emit) => {
    const change = rec.value as Change<unknown>
    const stored = other.getWithTimestamp(rec.key)
    const theirs = stored?.value ?? null
    // Kafka's table-table joins stamp a result with the later of the two sides' timestamps.
    const timestamp = stored ? Math.max(rec.timestamp, stored.timestamp) : rec.timestamp
    const newValue =
      change.newValue === null && (kind === 'inner' || (kind === 'left' && own === 'left'))
        ? null
        : join(change.newValue, theirs)
    const oldValue =
      change.oldValue === null && (kind === 'inner' || (kind === 'left' && own === 'left'))
        ? null
        : join(change.oldValue, theirs)
    if (newValue === null && oldValue === null) return
    result.put(rec.key, newValue, timestamp)
    emit({ ...rec, timestamp, value: { newValue, oldValue } satisfies Change<unknown> })
  })
}

interface Buffered {
  key: unknown
  value: unknown
  timestamp: number
  /** Position among this side's records of the same key and timestamp (part of the store key). */
  n: number
  joined: boolean
}

const byTime = (a: Buffered, b: Buffered) => a.timestamp - b.timestamp || a.n - b.n

/**
 * Windowed stream-stream join. Each record joins the other side's records of its key within the
 * window, partners taken in timestamp order. Inner joins emit matches only. Left and outer joins
 * (Kafka >= 3.1) emit a record that found no partner, with null, only once its window has closed
 * (timestamp + after + grace < stream time), so a late partner can still join it. Records older
 * than the window plus grace are dropped as late.
 *
 * Both sides' buffered records and the stream time live in stores (changelogged by a runtime);
 * the in-memory index is rebuilt from them after a restore, and every order used depends on the
 * data only, so a restarted join emits what an uninterrupted one would.
 */
export function streamStreamJoin(
  names: { left: string; right: string },
  windows: JoinWindows,
  joiner: Joiner<unknown, unknown, unknown>,
  kind: 'inner' | 'left' | 'outer',
  topology: Topology,
): { left: ProcessorNode; right: ProcessorNode; out: ProcessorNode } {
  const buffers = { left: new Map<string, Buffered[]>(), right: new Map<string, Buffered[]>() }
  const stores = {
    left: topology.store(`${names.left}-buffer`),
    right: topology.store(`${names.right}-buffer`),
  }
  const meta = topology.store(`${names.left}-meta`)
  let streamTime = -Infinity
  const storeKey = (b: Buffered) => [b.key, b.timestamp, b.n]
  const insert = (which: 'left' | 'right', b: Buffered) => {
    const id = keyId(b.key)
    const list = buffers[which].get(id) ?? []
    let i = list.length
    while (i > 0 && byTime(list[i - 1]!, b) > 0) i--
    list.splice(i, 0, b)
    buffers[which].set(id, list)
  }
  topology.onRestore(() => {
    streamTime = restoreStreamTime(meta)
    for (const which of ['left', 'right'] as const) {
      buffers[which].clear()
      for (const { key, value } of stores[which].all()) {
        const [k, timestamp, n] = key as [unknown, number, number]
        const v = value as { value: unknown; joined: boolean }
        insert(which, { key: k, value: v.value, timestamp, n, joined: v.joined })
      }
    }
  })
  const out = createNode(`${names.left}-MERGE`, (r, emit) => emit(r))
  const forward = (r: StreamRecord) => out.process(r)
  const emitsUnmatched = (side: 'left' | 'right') =>
    kind === 'outer' || (kind === 'left' && side === 'left')
  const save = (which: 'left' | 'right', b: Buffered) =>
    stores[which].put(storeKey(b), { value: b.value, joined: b.joined }, b.timestamp)

  const side = (me: 'left' | 'right', name: string) =>
    createNode(name, (r) => {
      if (r.value === null || r.value === undefined) return
      streamTime = advanceStreamTime(meta, streamTime, r.timestamp)
      if (r.key === null || r.key === undefined) {
        // KIP-962 (Kafka 3.7): left / outer joins emit a null-key record at once, unjoined.
        if (emitsUnmatched(me))
          forward({ ...r, value: me === 'left' ? joiner(r.value, null) : joiner(null, r.value) })
        return
      }
      const { beforeMs, afterMs, graceMs } = windows
      if (r.timestamp + Math.max(beforeMs, afterMs) + graceMs < streamTime) {
        topology.dropped(name)
        return
      }
      // As Kafka: records whose window closed come out before this one's joins, and only when
      // this record moved stream time (an out-of-order one closes nothing).
      if (r.timestamp === streamTime) flushClosed(r)
      const them = me === 'left' ? 'right' : 'left'
      const id = keyId(r.key)
      // For a left record at t, right records in [t - before, t + after] join (mirrored for right).
      const [from, to] =
        me === 'left'
          ? [r.timestamp - beforeMs, r.timestamp + afterMs]
          : [r.timestamp - afterMs, r.timestamp + beforeMs]
      const sameTime = (buffers[me].get(id) ?? []).filter((b) => b.timestamp === r.timestamp).length
      const mine: Buffered = {
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        n: sameTime,
        joined: false,
      }
      for (const other of buffers[them].get(id) ?? []) {
        if (other.timestamp < from || other.timestamp > to) continue
        mine.joined = true
        if (!other.joined) {
          other.joined = true
          save(them, other)
        }
        const [l, rv] = me === 'left' ? [r.value, other.value] : [other.value, r.value]
        forward({ ...r, timestamp: Math.max(r.timestamp, other.timestamp), value: joiner(l, rv) })
      }
      insert(me, mine)
      save(me, mine)
    })

  /**
   * Emits unmatched records whose join window has closed (left/outer), and forgets old ones. Both
   * sides come out in one order, Kafka's outer-join store order: timestamp, right side first, key.
   */
  const flushClosed = (trigger: StreamRecord) => {
    const { beforeMs, afterMs, graceMs } = windows
    const closed: { which: 'left' | 'right'; b: Buffered }[] = []
    for (const which of ['left', 'right'] as const) {
      const horizon = (which === 'left' ? afterMs : beforeMs) + graceMs
      for (const [id, list] of buffers[which]) {
        // Each pass looks at every buffered record: fine for UI-sized windows; an index by
        // timestamp is the next step if joins over large windows need it.
        const keep = list.filter(
          (b) => b.timestamp + horizon >= streamTime || (closed.push({ which, b }), false),
        )
        if (keep.length === 0) buffers[which].delete(id)
        else buffers[which].set(id, keep)
      }
    }
    closed.sort(
      (x, y) =>
        x.b.timestamp - y.b.timestamp ||
        (x.which === y.which ? 0 : x.which === 'right' ? -1 : 1) ||
        (keyId(x.b.key) < keyId(y.b.key) ? -1 : keyId(x.b.key) > keyId(y.b.key) ? 1 : 0) ||
        x.b.n - y.b.n,
    )
    for (const { which, b } of closed) {
      stores[which].delete(storeKey(b))
      if (b.joined || !emitsUnmatched(which)) continue
      const value = which === 'left' ? joiner(b.value, null) : joiner(null, b.value)
      forward({ ...trigger, key: b.key, timestamp: b.timestamp, value })
    }
  }
  return { left: side('left', names.left), right: side('right', names.right), out }
}
