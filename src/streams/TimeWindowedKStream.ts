import { advanceStreamTime, restoreStreamTime } from './streamTime.ts'
import { EndIndex } from './EndIndex.ts'
import { KTable } from './KTable.ts'
import { createNode, type Change, type ProcessorNode, type StreamRecord } from './processor.ts'
import type { StreamsBuilder } from './StreamsBuilder.ts'
import { WindowedKStream, type WindowedOptions } from './WindowedKStream.ts'
import type { TimeWindows, Windowed } from './windows.ts'

/**
 * Kafka Streams' TimeWindowedKStream. A record updates every window holding its timestamp, unless
 * that window has closed (end <= stream time - grace): then it is dropped and counted as late.
 */
export class TimeWindowedKStream<K, V> extends WindowedKStream<K, V> {
  constructor(
    private readonly builder: StreamsBuilder,
    private readonly parent: ProcessorNode,
    private readonly windows: TimeWindows,
  ) {
    super()
  }

  protected fold<VA>(
    step: (key: K, value: V, old: VA | null) => VA,
    options: WindowedOptions,
  ): KTable<Windowed<K>, VA> {
    const { builder, windows } = this
    const topology = builder.topology
    const name = options.materialized ?? builder.nextName('KSTREAM-AGGREGATE-STATE-STORE')
    const store = topology.store(name)
    const processor = builder.nextName('KSTREAM-WINDOWAGGREGATE')
    const onClose = this.emit.type === 'close'
    // Stream time is state too: it decides which windows are closed, so it is stored (and
    // changelogged) with the windows; the indexes below are rebuilt from both after a restore.
    const meta = topology.store(`${name}-meta`)
    // Windows by end: still open (to close, and emit with onWindowClose), and kept (to expire).
    const open = new EndIndex<Windowed<K>>()
    const kept = new EndIndex<Windowed<K>>()
    let streamTime = -Infinity
    topology.onRestore(() => {
      open.clear()
      kept.clear()
      streamTime = restoreStreamTime(meta)
      const closeTime = streamTime - windows.graceMs
      for (const { key } of store.all() as { key: Windowed<K> }[]) {
        const id = JSON.stringify(key)
        kept.add(key.window.end, id, key)
        // Closed windows were emitted (onWindowClose) in the commit that closed them.
        if (key.window.end > closeTime) open.add(key.window.end, id, key)
      }
    })
    const node = createNode(processor, (r, emit) => {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return
      streamTime = advanceStreamTime(meta, streamTime, r.timestamp)
      const closeTime = streamTime - windows.graceMs
      let dropped = false
      for (const window of windows.windowsFor(r.timestamp)) {
        if (window.end <= closeTime) {
          dropped = true
          continue
        }
        const key: Windowed<K> = { key: r.key as K, window }
        const old = store.getWithTimestamp(key) as { value: VA; timestamp: number } | null
        const value = step(r.key as K, r.value as V, old?.value ?? null)
        const timestamp = Math.max(r.timestamp, old?.timestamp ?? -Infinity)
        store.put(key, value, timestamp)
        if (old === null) {
          const id = JSON.stringify(key)
          open.add(window.end, id, key)
          kept.add(window.end, id, key)
        }
        if (!onClose)
          emit(windowed(r, key, timestamp, { newValue: value, oldValue: old?.value ?? null }))
      }
      if (dropped) topology.dropped(processor)
      // Closed windows: final results (onWindowClose), then out of the store after retention.
      for (const key of open.takeUpTo(closeTime)) {
        if (!onClose) continue
        const entry = store.getWithTimestamp(key)
        if (entry)
          emit(windowed(r, key, entry.timestamp, { newValue: entry.value as VA, oldValue: null }))
      }
      for (const key of kept.takeUpTo(streamTime - windows.retentionMs() - 1)) store.delete(key)
    })
    this.parent.children.push(node)
    const table = new KTable<Windowed<K>, VA>(builder, node, name)
    table.windowGraceMs = windows.graceMs
    return table
  }
}

export function windowed<K, VA>(
  r: StreamRecord,
  key: Windowed<K>,
  timestamp: number,
  change: Change<VA>,
): StreamRecord {
  return { ...r, key, timestamp, value: change }
}
