import { advanceStreamTime, restoreStreamTime } from './streamTime.ts'
import { EndIndex } from './EndIndex.ts'
import { KTable, type Materialized } from './KTable.ts'
import { createNode, type ProcessorNode, type StreamRecord } from './processor.ts'
import type { StreamsBuilder } from './StreamsBuilder.ts'
import { EmitStrategy, type SessionWindows, type Window, type Windowed } from './windows.ts'

interface Session<VA> {
  window: Window
  value: VA
  timestamp: number
}

/**
 * Kafka Streams' SessionWindowedKStream. A record joins every session of its key that lies within
 * the inactivity gap, merging them into one; each merged session is retracted (a tombstone for
 * its key) before the new session is emitted, exactly as Kafka forwards them with caching off.
 *
 * A session closes once stream time passes its end + inactivity gap + grace (Kafka's
 * KStreamSessionWindowAggregate: close time = stream time - grace - gap): a record whose merged
 * session would end before the close time is dropped as late. The gap counts because until it
 * has passed, a new record may still extend the session.
 */
export class SessionWindowedKStream<K, V> {
  private emit: EmitStrategy = EmitStrategy.onWindowUpdate()

  constructor(
    private readonly builder: StreamsBuilder,
    private readonly parent: ProcessorNode,
    private readonly windows: SessionWindows,
  ) {}

  /**
   * onWindowClose() (KIP-825) emits each session's final result once, when it closes (stream time
   * past end + gap + grace), stamped with the session's end, and nothing before: no updates and,
   * as in Kafka, no tombstones for sessions merged away (they were never emitted).
   */
  emitStrategy(strategy: EmitStrategy): this {
    this.emit = strategy
    return this
  }

  count(options: { materialized?: Materialized } = {}): KTable<Windowed<K>, number> {
    return this.aggregate(
      () => 0,
      (_k, _v, n) => n + 1,
      (_k, a, b) => a + b,
      options,
    )
  }

  reduce(
    reducer: (aggregate: V, value: V) => V,
    options: { materialized?: Materialized } = {},
  ): KTable<Windowed<K>, V> {
    type Slot = { set: boolean; value: V }
    const table = this.aggregate<Slot>(
      () => ({ set: false, value: undefined as V }),
      (_k, v, a) => ({ set: true, value: a.set ? reducer(a.value, v) : v }),
      (_k, a, b) => (!a.set ? b : !b.set ? a : { set: true, value: reducer(a.value, b.value) }),
      options,
    )
    return table.mapValues(
      (slot) => slot.value,
      options.materialized === undefined ? {} : { materialized: `${options.materialized}-values` },
    )
  }

  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    merger: (key: K, aggregate1: VA, aggregate2: VA) => VA,
    options: { materialized?: Materialized } = {},
  ): KTable<Windowed<K>, VA> {
    const { builder, windows } = this
    const topology = builder.topology
    const name = options.materialized ?? builder.nextName('KSTREAM-AGGREGATE-STATE-STORE')
    const store = topology.store(name)
    const processor = builder.nextName('KSTREAM-SESSIONWINDOWAGGREGATE')
    const meta = topology.store(`${name}-meta`)
    const onClose = this.emit.type === 'close'
    const sessions = new Map<string, Session<VA>[]>()
    // Sessions not yet emitted (onWindowClose), by end: they are emitted once they close.
    const open = new EndIndex<Windowed<K>>()
    // Every session in the store, by end: it leaves the store once stream time is past its end +
    // retention (Kafka's session store drops expired segments), so the store does not grow forever.
    const kept = new EndIndex<Windowed<K>>()
    const closeTimeAt = (time: number) => time - windows.graceMs - windows.gapMs
    let streamTime = -Infinity
    // The sessions index and stream time come back from the stores after a restore.
    topology.onRestore(() => {
      streamTime = restoreStreamTime(meta)
      sessions.clear()
      open.clear()
      kept.clear()
      const closeTime = closeTimeAt(streamTime)
      for (const { key, value } of store.all() as { key: Windowed<K>; value: VA }[]) {
        const id = JSON.stringify(key.key)
        const timestamp = store.getWithTimestamp(key)?.timestamp ?? key.window.end
        sessions.set(id, [...(sessions.get(id) ?? []), { window: key.window, value, timestamp }])
        kept.add(key.window.end, JSON.stringify(key), key)
        // Closed sessions were emitted (onWindowClose) in the commit that closed them.
        if (onClose && key.window.end >= closeTime)
          open.add(key.window.end, JSON.stringify(key), key)
      }
      for (const list of sessions.values()) list.sort((a, b) => a.window.start - b.window.start)
    })
    const node = createNode(processor, (r, emit) => {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return
      const key = r.key as K
      const ts = r.timestamp
      const before = closeTimeAt(streamTime)
      streamTime = advanceStreamTime(meta, streamTime, ts)
      const closeTime = closeTimeAt(streamTime)
      const id = JSON.stringify(key)
      const mine = sessions.get(id) ?? []
      const overlapping = mine.filter(
        (s) => s.window.end >= ts - windows.gapMs && s.window.start <= ts + windows.gapMs,
      )
      let start = ts
      let end = ts
      let aggregate = initializer()
      let timestamp = ts
      for (const s of overlapping) {
        start = Math.min(start, s.window.start)
        end = Math.max(end, s.window.end)
        aggregate = merger(key, aggregate, s.value)
        timestamp = Math.max(timestamp, s.timestamp)
      }
      if (end < closeTime) {
        topology.dropped(processor)
        return
      }
      aggregate = aggregator(key, r.value as V, aggregate)
      for (const s of overlapping) {
        const old: Windowed<K> = { key, window: s.window }
        store.put(old, null, ts)
        kept.delete(s.window.end, JSON.stringify(old))
        if (onClose) {
          open.delete(s.window.end, JSON.stringify(old))
          continue
        }
        emit({
          ...r,
          key: old,
          timestamp: s.timestamp,
          value: { newValue: null, oldValue: s.value },
        })
      }
      const merged: Session<VA> = { window: { start, end }, value: aggregate, timestamp }
      sessions.set(
        id,
        [...mine.filter((s) => !overlapping.includes(s)), merged].sort(
          (a, b) => a.window.start - b.window.start,
        ),
      )
      const windowedKey: Windowed<K> = { key, window: merged.window }
      store.put(windowedKey, aggregate, timestamp)
      kept.add(end, JSON.stringify(windowedKey), windowedKey)
      if (!onClose) {
        emit({ ...r, key: windowedKey, timestamp, value: { newValue: aggregate, oldValue: null } })
      } else {
        open.add(end, JSON.stringify(windowedKey), windowedKey)
        if (closeTime > before) emitClosed(r, closeTime, emit)
      }
      expire()
    })
    /** Sessions past retention leave the store and the index, with no record downstream. */
    const expire = () => {
      for (const windowedKey of kept.takeUpTo(streamTime - windows.retentionMs() - 1)) {
        store.delete(windowedKey)
        const id = JSON.stringify(windowedKey.key)
        const left = (sessions.get(id) ?? []).filter((s) => s.window.end !== windowedKey.window.end)
        if (left.length > 0) sessions.set(id, left)
        else sessions.delete(id)
      }
    }
    /**
     * Final results of the sessions that closed (end < close time), ordered as Kafka's
     * time-ordered session store returns them: by end, then start, then key; each stamped with
     * its end and carrying the headers of the record that closed it.
     */
    const emitClosed = (r: StreamRecord, closeTime: number, emit: (r: StreamRecord) => void) => {
      const closed = open.takeUpTo(closeTime - 1)
      closed.sort(
        (a, b) =>
          a.window.end - b.window.end ||
          a.window.start - b.window.start ||
          compare(JSON.stringify(a.key), JSON.stringify(b.key)),
      )
      for (const windowedKey of closed) {
        const value = store.get(windowedKey) as VA | null
        if (value === null) continue
        emit({
          ...r,
          key: windowedKey,
          timestamp: windowedKey.window.end,
          value: { newValue: value, oldValue: null },
        })
      }
    }
    this.parent.children.push(node)
    const table = new KTable<Windowed<K>, VA>(builder, node, name)
    // suppress(untilWindowCloses) waits as long as the aggregation keeps sessions open (Kafka's
    // GraphGraceSearchUtil: grace + inactivity gap for session windows).
    table.windowGraceMs = windows.graceMs + windows.gapMs
    return table
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
