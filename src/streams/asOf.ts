import { InvalidArgumentError } from '../log/errors.ts'
import type { Log, Message } from '../log/Log.ts'
import { MAX_TASK_IDLE_MS_DISABLED, PartitionGroup, type InputBatch } from './PartitionGroup.ts'
import type { StreamRecord } from './processor.ts'
import type { Topology } from './Topology.ts'
import { VersionedKeyValueStore } from './VersionedKeyValueStore.ts'

/**
 * A point in the input log: `offsets[topic][p]` is the next offset of partition p taken (what
 * the live topology had processed), or `timestamp`: every partition up to its first record
 * stamped later than it.
 */
export type AsOf = { offsets: Record<string, number[]> } | { timestamp: number }

/** One store entry as of the point: key, value and the timestamp of its last update. */
export interface AsOfEntry {
  key: unknown
  value: unknown
  timestamp: number
}

export interface StoresAsOf {
  /** Per input topic (as the log names it), the next offset per partition that was taken. */
  offsets: Record<string, number[]>
  /** Per store, its entries in key order. */
  stores: Map<string, AsOfEntry[]>
}

/**
 * The topology's stores as they were after the input up to `at`: the input log is read from its
 * start and replayed, in the order a KafkaStreams instance takes it (PartitionGroup: timestamp
 * order across partitions), through the topology's own processors on scratch stores
 * (Topology.isolated). Nothing live changes: no store, offset, changelog or output.
 * Records sent to repartition topics are processed at once, as TopologyTestDriver does, where
 * the live instance reads them back later: stores behind a repartition may be ahead of the live
 * ones at the same input offsets (their final state is the same).
 */
export async function storesAsOf(
  log: Log,
  topology: Topology,
  at: AsOf,
  logTopic: (topic: string) => string = (t) => t,
): Promise<StoresAsOf> {
  const internal = topology.internalTopics
  const sources = topology.inputTopics().filter((t) => !internal.has(t))
  const ends = await resolveEnds(log, sources, at)
  // The order a live instance takes the records in: the same PartitionGroup, over a log cut at
  // the ends (its high watermarks are the ends, so it stops there).
  const cut = {
    clock: () => log.clock(),
    offsets: (topic: string) => log.offsets(topic),
    async fetch(options: {
      topic: string
      partition: number
      offset: number
      maxRecords?: number
    }) {
      const end = ends[options.topic]![options.partition]!
      const chunk = await log.fetch(options)
      const records = chunk.records.filter((r) => r.offset < end)
      const nextOffset =
        records.length < chunk.records.length ? end : Math.min(chunk.nextOffset, end)
      return { ...chunk, records, nextOffset, highWatermark: end }
    },
  } as unknown as Log
  const group = new PartitionGroup(cut, MAX_TASK_IDLE_MS_DISABLED)
  // From each partition's start: what retention removed is not replayed.
  for (const topic of sources) {
    const offsets = await log.offsets(logTopic(topic))
    for (const { partition, low } of offsets) group.add(logTopic(topic), partition, low)
  }
  // Read it all first: the replay itself must be synchronous (Topology.isolated).
  const batches: InputBatch[] = []
  for (;;) {
    const batch = await group.next(1000)
    if (!batch) break
    if (batch.records.length > 0) batches.push(batch)
    group.committed(batch)
  }
  const sourceOf = new Map(sources.map((t) => [logTopic(t), t]))
  const stores = topology.isolated(() => {
    const queue: [string, StreamRecord][] = []
    topology.connectSink((to, record) => {
      if (internal.has(to)) queue.push([to, record])
    })
    const pipe = (topic: string, record: StreamRecord) => {
      topology.process(topic, record)
      while (queue.length > 0) {
        const [again, next] = queue.shift()!
        topology.process(again, next)
      }
    }
    for (const batch of batches) {
      const source = sourceOf.get(batch.topic)!
      for (const r of batch.records as Message[])
        pipe(source, { key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers })
    }
    const out = new Map<string, AsOfEntry[]>()
    for (const [name, store] of topology.stores) {
      out.set(
        name,
        store.all().map(({ key }) => {
          const entry =
            store instanceof VersionedKeyValueStore ? store.get(key) : store.getWithTimestamp(key)
          return { key, value: entry!.value, timestamp: entry!.timestamp }
        }),
      )
    }
    return out
  })
  const offsets: Record<string, number[]> = {}
  for (const topic of sources) offsets[logTopic(topic)] = ends[logTopic(topic)]!
  return { offsets, stores }
}

/** Per input topic (log name), the end offset per partition; bad input is an InvalidArgumentError. */
async function resolveEnds(
  log: Log,
  sources: string[],
  at: AsOf,
): Promise<Record<string, number[]>> {
  const ends: Record<string, number[]> = {}
  if ('timestamp' in at) {
    const t = at.timestamp
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0)
      throw new InvalidArgumentError(`asOf timestamp must be a number >= 0, got ${String(t)}`)
    for (const topic of sources) {
      const partitions = await log.offsets(topic)
      // The first record stamped after t ends each partition (timestamps are whole ms).
      ends[topic] = await Promise.all(
        partitions.map((p) => log.offsetForTimestamp(topic, p.partition, Math.floor(t) + 1)),
      )
    }
    return ends
  }
  if (!at || typeof at.offsets !== 'object' || at.offsets === null)
    throw new InvalidArgumentError('asOf takes { offsets } or { timestamp }')
  for (const topic of Object.keys(at.offsets)) {
    if (!sources.includes(topic))
      throw new InvalidArgumentError(
        `asOf offsets name "${topic}", which is not an input of this topology (inputs: ${sources.join(', ')})`,
      )
  }
  for (const topic of sources) {
    const partitions = await log.offsets(topic)
    const given = at.offsets[topic]
    ends[topic] = partitions.map(({ partition, low, high }) => {
      // A topic or partition not named: up to its end (what is in the log now).
      const offset = given?.[partition] ?? high
      if (!Number.isInteger(offset) || offset < low || offset > high)
        throw new InvalidArgumentError(
          `asOf offset ${String(offset)} of "${topic}" partition ${partition} is out of range ` +
            `(${low}..${high})`,
        )
      return offset
    })
    if (given && given.length > partitions.length)
      throw new InvalidArgumentError(
        `asOf offsets give ${given.length} partitions for "${topic}", which has ${partitions.length}`,
      )
  }
  return ends
}
