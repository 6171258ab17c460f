import type { RecordHeaders } from '../log/record.ts'
import {
  SCHEMA_VERSION_HEADER,
  topicName,
  upcastRecord,
  type TopicDefinition,
} from '../log/TopicDefinition.ts'
import type { KeyValuePair } from '../streams/KeyValueStore.ts'
import { VersionedKeyValueStore, type VersionedRecord } from '../streams/VersionedKeyValueStore.ts'
import type { StreamRecord } from '../streams/processor.ts'
import type { Topology } from '../streams/Topology.ts'

export interface TestRecord<K, V> {
  key: K
  value: V
  timestamp: number
  headers: RecordHeaders | null
}

/**
 * Kafka's TopologyTestDriver: pipes records through a topology synchronously, in memory, and
 * collects what it sends to output topics. Records get explicit timestamps (or the input topic's
 * clock, which advances by `autoAdvanceMs` per record).
 */
export class TopologyTestDriver {
  private readonly outputs = new Map<string, StreamRecord[]>()
  private wallClock: number

  constructor(
    private readonly topology: Topology,
    options: { initialWallClockTime?: number } = {},
  ) {
    this.wallClock = options.initialWallClockTime ?? 0
    topology.connectSink((topic, record) => {
      if (topology.internalTopics.has(topic)) {
        this.internal.push([topic, record])
        return
      }
      const queue = this.outputs.get(topic) ?? []
      queue.push(record)
      this.outputs.set(topic, queue)
    })
  }

  /** Records sent to repartition topics, processed once the record that caused them is done. */
  private readonly internal: [string, StreamRecord][] = []

  private pipe = (topic: string, record: StreamRecord): void => {
    this.topology.process(topic, record)
    // As Kafka's driver does: what went through repartition topics comes back in, in order.
    while (this.internal.length > 0) {
      const [internalTopic, internalRecord] = this.internal.shift()!
      this.topology.process(internalTopic, internalRecord)
    }
  }

  /**
   * An input topic. Given a typed topic's definition, records are typed by its schema, and a
   * record piped with an older version in its `duality.schema.version` header is upcast as the
   * log's readers would upcast it (one without the header is taken as current, as a producer
   * would have stamped it). The schema itself is not run: the driver is synchronous, a schema may
   * not be.
   */
  createInputTopic<V, K>(
    topic: TopicDefinition<V, K>,
    options?: { startTimestamp?: number; autoAdvanceMs?: number },
  ): TestInputTopic<K, V>
  createInputTopic<K = unknown, V = unknown>(
    topic: string,
    options?: { startTimestamp?: number; autoAdvanceMs?: number },
  ): TestInputTopic<K, V>
  createInputTopic<K, V>(
    topic: string | TopicDefinition<V, K>,
    options: { startTimestamp?: number; autoAdvanceMs?: number } = {},
  ): TestInputTopic<K, V> {
    const name = topicName(topic)
    const pipe =
      typeof topic === 'string'
        ? this.pipe
        : (to: string, record: StreamRecord) => {
            const headers = record.headers ?? {}
            const stamped = SCHEMA_VERSION_HEADER in headers
            if (!stamped) return this.pipe(to, record)
            const where = `Record piped into "${name}"`
            const current = upcastRecord(topic as TopicDefinition, record.value, headers, where)
            this.pipe(to, { ...record, value: current.value, headers: current.headers })
          }
    return new TestInputTopic<K, V>(
      pipe,
      name,
      options.startTimestamp ?? this.wallClock,
      options.autoAdvanceMs ?? 0,
    )
  }

  createOutputTopic<K = unknown, V = unknown>(topic: string): TestOutputTopic<K, V> {
    if (!this.outputs.has(topic)) this.outputs.set(topic, [])
    return new TestOutputTopic<K, V>(this.outputs.get(topic)!)
  }

  /** A state store's current entries, by name (Materialized name or generated). */
  getKeyValueStore<K = unknown, V = unknown>(
    name: string,
  ): { get(key: K): V | null; all(): KeyValuePair<K, V>[] } {
    const store = this.topology.stores.get(name)
    if (!store)
      throw new Error(`No store "${name}"; stores: ${[...this.topology.stores.keys()].join(', ')}`)
    if (store instanceof VersionedKeyValueStore)
      throw new Error(`Store "${name}" is versioned: read it with getVersionedKeyValueStore`)
    return store as never
  }

  /** A versioned store (Kafka's TopologyTestDriver.getVersionedKeyValueStore). */
  getVersionedKeyValueStore<K = unknown, V = unknown>(
    name: string,
  ): { get(key: K, asOfTimestamp?: number): VersionedRecord<V> | null } {
    const store = this.topology.stores.get(name)
    if (!(store instanceof VersionedKeyValueStore)) throw new Error(`No versioned store "${name}"`)
    return store as never
  }

  /** Records dropped (late for their windows), per processor and in total. */
  droppedRecords(): { total: number; byProcessor: Map<string, number> } {
    const byProcessor = new Map(this.topology.droppedRecords)
    return { total: [...byProcessor.values()].reduce((a, b) => a + b, 0), byProcessor }
  }

  advanceWallClockTime(ms: number): void {
    this.wallClock += ms
  }

  close(): void {
    this.topology.connectSink(() => undefined)
  }
}

export class TestInputTopic<K, V> {
  constructor(
    private readonly pipe: (topic: string, record: StreamRecord) => void,
    readonly name: string,
    private time: number,
    private readonly autoAdvanceMs: number,
  ) {}

  pipeInput(key: K, value: V, timestamp?: number, headers: RecordHeaders | null = null): void {
    const ts = timestamp ?? this.time
    if (timestamp === undefined) this.time += this.autoAdvanceMs
    this.pipe(this.name, { key, value, timestamp: ts, headers })
  }

  pipeKeyValueList(pairs: KeyValuePair<K, V>[]): void {
    for (const { key, value } of pairs) this.pipeInput(key, value)
  }

  pipeValueList(values: V[]): void {
    for (const value of values) this.pipeInput(null as K, value)
  }

  advanceTime(ms: number): void {
    this.time += ms
  }
}

export class TestOutputTopic<K, V> {
  constructor(private readonly queue: StreamRecord[]) {}

  private next(): TestRecord<K, V> {
    const record = this.queue.shift()
    if (!record) throw new Error('No more records in this output topic')
    return record as TestRecord<K, V>
  }

  readRecord(): TestRecord<K, V> {
    return this.next()
  }

  readKeyValue(): KeyValuePair<K, V> {
    const { key, value } = this.next()
    return { key, value }
  }

  readValue(): V {
    return this.next().value
  }

  readKeyValuesToList(): KeyValuePair<K, V>[] {
    const out: KeyValuePair<K, V>[] = []
    while (this.queue.length > 0) out.push(this.readKeyValue())
    return out
  }

  /** The latest value per key (a table's final state), as Kafka's readKeyValuesToMap. */
  readKeyValuesToMap(): Map<K, V> {
    const out = new Map<K, V>()
    for (const { key, value } of this.readKeyValuesToList()) out.set(key, value)
    return out
  }

  readRecordsToList(): TestRecord<K, V>[] {
    const out: TestRecord<K, V>[] = []
    while (this.queue.length > 0) out.push(this.next())
    return out
  }

  isEmpty(): boolean {
    return this.queue.length === 0
  }

  getQueueSize(): number {
    return this.queue.length
  }
}
