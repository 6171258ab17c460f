import { advanceStreamTime, restoreStreamTime } from './streamTime.ts'
import { KTable, type Materialized } from './KTable.ts'
import { createNode, type ProcessorNode } from './processor.ts'
import type { StreamsBuilder } from './StreamsBuilder.ts'
import type { SessionWindows, Window, Windowed } from './windows.ts'

interface Session<VA> {
  window: Window
  value: VA
  timestamp: number
}

/**
 * Kafka Streams' SessionWindowedKStream. A record joins every session of its key that lies within
 * the inactivity gap, merging them into one; each merged session is retracted (a tombstone for
 * its key) before the new session is emitted, exactly as Kafka forwards them with caching off.
 * A session ending before stream time - grace takes no more records (they are dropped as late).
 */
export class SessionWindowedKStream<K, V> {
  constructor(
    private readonly builder: StreamsBuilder,
    private readonly parent: ProcessorNode,
    private readonly windows: SessionWindows,
  ) {}

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
    const sessions = new Map<string, Session<VA>[]>()
    let streamTime = -Infinity
    // The sessions index and stream time come back from the stores after a restore.
    topology.onRestore(() => {
      streamTime = restoreStreamTime(meta)
      sessions.clear()
      for (const { key, value } of store.all() as { key: Windowed<K>; value: VA }[]) {
        const id = JSON.stringify(key.key)
        const timestamp = store.getWithTimestamp(key)?.timestamp ?? key.window.end
        sessions.set(id, [...(sessions.get(id) ?? []), { window: key.window, value, timestamp }])
      }
      for (const list of sessions.values()) list.sort((a, b) => a.window.start - b.window.start)
    })
    const node = createNode(processor, (r, emit) => {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return
      const key = r.key as K
      const ts = r.timestamp
      streamTime = advanceStreamTime(meta, streamTime, ts)
      const closeTime = streamTime - windows.graceMs
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
      emit({ ...r, key: windowedKey, timestamp, value: { newValue: aggregate, oldValue: null } })
    })
    this.parent.children.push(node)
    const table = new KTable<Windowed<K>, VA>(builder, node, name)
    table.windowGraceMs = windows.graceMs
    return table
  }
}
