import { advanceStreamTime, restoreStreamTime } from './streamTime.ts'
import { EndIndex } from './EndIndex.ts'
import { keyId } from './KeyValueStore.ts'
import { KTable } from './KTable.ts'
import { createNode, type ProcessorNode, type StreamRecord } from './processor.ts'
import type { StreamsBuilder } from './StreamsBuilder.ts'
import { windowed } from './TimeWindowedKStream.ts'
import { WindowedKStream, type WindowedOptions } from './WindowedKStream.ts'
import type { SlidingWindows, Windowed } from './windows.ts'

interface Aggregate<VA> {
  value: VA | null
  /** The largest timestamp of the records in the window. */
  timestamp: number
}

/**
 * Kafka Streams' sliding-window aggregation (KStreamSlidingWindowAggregate). Windows are kept as
 * aggregates, never as raw records: a new window starts from the aggregate of an existing one that
 * holds exactly its other records. The branches below follow Kafka's reverse-iterating version
 * (what its default stores use), so updates come out in Kafka's order.
 */
export class SlidingWindowedKStream<K, V> extends WindowedKStream<K, V> {
  constructor(
    private readonly builder: StreamsBuilder,
    private readonly parent: ProcessorNode,
    private readonly windows: SlidingWindows,
  ) {
    super()
  }

  protected fold<VA>(
    step: (key: K, value: V, old: VA | null) => VA,
    options: WindowedOptions,
  ): KTable<Windowed<K>, VA> {
    const { builder, windows } = this
    const td = windows.timeDifferenceMs
    const topology = builder.topology
    const name = options.materialized ?? builder.nextName('KSTREAM-AGGREGATE-STATE-STORE')
    const store = topology.store(name)
    const meta = topology.store(`${name}-meta`)
    const processor = builder.nextName('KSTREAM-SLIDINGWINDOWAGGREGATE')
    const onClose = this.emit.type === 'close'
    // Window starts per key, ascending: Kafka fetches a key's windows by start-time range.
    const starts = new Map<string, number[]>()
    const open = new EndIndex<Windowed<K>>()
    const kept = new EndIndex<Windowed<K>>()
    let streamTime = -Infinity
    const index = (key: Windowed<K>) => {
      const list = starts.get(keyId(key.key)) ?? []
      starts.set(keyId(key.key), list)
      let i = list.length
      while (i > 0 && list[i - 1]! > key.window.start) i--
      list.splice(i, 0, key.window.start)
      const id = JSON.stringify(key)
      kept.add(key.window.end, id, key)
      open.add(key.window.end, id, key)
    }
    topology.onRestore(() => {
      streamTime = restoreStreamTime(meta)
      starts.clear()
      open.clear()
      kept.clear()
      for (const { key } of store.all() as { key: Windowed<K> }[]) index(key)
      // Windows closed before the crash were emitted (onWindowClose) in the commit that closed them.
      open.takeUpTo(streamTime - windows.graceMs - 1)
    })
    const windowKey = (key: K, start: number): Windowed<K> => ({
      key,
      window: { start, end: start + td },
    })

    const node = createNode(processor, (r, emit) => {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return
      const key = r.key as K
      const ts = r.timestamp
      streamTime = advanceStreamTime(meta, streamTime, ts)
      const closeTime = streamTime - windows.graceMs
      const get = (start: number) => store.getWithTimestamp(windowKey(key, start)) as Aggregate<VA>
      const inRange = (from: number, to: number) =>
        (starts.get(keyId(key)) ?? []).filter((s) => s >= from && s <= to)
      const forward = (start: number, value: VA, timestamp: number, old: VA | null) => {
        if (!onClose)
          emit(windowed(r, windowKey(key, start), timestamp, { newValue: value, oldValue: old }))
      }

      // Adds the record to a window (new when `base` is not in the store), unless it has closed.
      const update = (start: number, base: Aggregate<VA>) => {
        if (start + td < closeTime) {
          topology.dropped(processor)
          return
        }
        const wk = windowKey(key, start)
        const existing = store.getWithTimestamp(wk) as Aggregate<VA> | null
        const value = step(key, r.value as V, base.value)
        const timestamp = base.value === null ? ts : Math.max(ts, base.timestamp)
        store.put(wk, value, timestamp)
        if (!existing) index(wk)
        forward(start, value, timestamp, existing?.value ?? null)
      }
      // The new record's right window holds what an existing window holds after it: copy that.
      const createRight = (agg: Aggregate<VA>) => {
        const wk = windowKey(key, ts + 1)
        store.put(wk, agg.value, agg.timestamp)
        index(wk)
        forward(ts + 1, agg.value as VA, agg.timestamp, null)
      }

      if (ts + 1 + td <= closeTime) {
        topology.dropped(processor)
      } else if (ts < td) {
        // Early records (KIP-450): all share the window [0, td] instead of negative starts.
        const seen = new Set<number>()
        let combined: Aggregate<VA> | null = null
        let rightAgg: Aggregate<VA> | null = null
        let rightCreated = false
        let previous: number | null = null
        for (const start of inRange(0, ts + 1)) {
          seen.add(start)
          const agg = get(start)
          if (start === 0) {
            combined = agg
            if (agg.timestamp < ts) previous = agg.timestamp
          } else if (start <= ts) {
            rightAgg = agg
            update(start, agg)
          } else if (start === ts + 1) rightCreated = true
        }
        if (rightAgg === null && combined && combined.timestamp > ts) rightAgg = combined
        if (!rightCreated && rightAgg && rightAgg.timestamp > ts) createRight(rightAgg)
        if (previous !== null && !seen.has(previous + 1))
          update(previous + 1, { value: null, timestamp: ts })
        update(0, combined ?? { value: null, timestamp: ts })
      } else {
        const seen = new Set<number>()
        let leftAgg: Aggregate<VA> | null = null
        let rightAgg: Aggregate<VA> | null = null
        let leftCreated = false
        let rightCreated = false
        let previous: number | null = null
        let done = false
        for (const start of inRange(Math.max(0, ts - 2 * td), ts + 1).reverse()) {
          seen.add(start)
          const end = start + td
          const agg = get(start)
          if (start === ts + 1) rightCreated = true
          else if (end > ts) {
            rightAgg ??= agg
            update(start, agg)
          } else if (end === ts) {
            leftCreated = true
            update(start, agg)
            if (agg.timestamp < ts) previous = agg.timestamp
            else {
              // A record at this very timestamp came before: its windows exist already.
              done = true
              break
            }
          } else {
            leftAgg = agg
            previous = agg.timestamp
            break
          }
        }
        if (!done) {
          if (previous !== null && !seen.has(previous + 1) && previous + 1 + td >= ts)
            update(previous + 1, { value: null, timestamp: ts })
          if (!leftCreated) {
            const holdsPrevious = previous !== null && ts - td <= previous && leftAgg !== null
            update(ts - td, { value: holdsPrevious ? leftAgg!.value : null, timestamp: ts })
          }
          if (!rightCreated && rightAgg && rightAgg.timestamp > ts) createRight(rightAgg)
        }
      }
      // Final results of closed windows (onWindowClose), then expiry after retention.
      for (const wk of open.takeUpTo(closeTime - 1)) {
        if (!onClose) continue
        const entry = store.getWithTimestamp(wk)
        if (entry) {
          emit(
            windowed(r as StreamRecord, wk, entry.timestamp, {
              newValue: entry.value as VA,
              oldValue: null,
            }),
          )
        }
      }
      for (const wk of kept.takeUpTo(streamTime - windows.retentionMs() - 1)) {
        store.delete(wk)
        const list = starts.get(keyId(wk.key))
        const i = list?.indexOf(wk.window.start) ?? -1
        if (i >= 0) list!.splice(i, 1)
      }
    })
    this.parent.children.push(node)
    const table = new KTable<Windowed<K>, VA>(builder, node, name)
    table.windowGraceMs = windows.graceMs
    return table
  }
}
