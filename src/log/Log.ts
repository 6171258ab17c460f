import { Admin } from './Admin.ts'
import { Cleaner, type CleanerOptions } from './Cleaner.ts'
import { Consumer, type ConsumerConfig } from './Consumer.ts'
import {
  ClosedError,
  InvalidRecordError,
  OffsetOutOfRangeError,
  UnknownTopicError,
} from './errors.ts'
import { GroupCommit, type Outcome } from './GroupCommit.ts'
import type { LogStorage, PartitionRow, TopicRow, WriteOptions } from './LogStorage.ts'
import { topicRange } from './LogStorage.ts'
import { planAppend } from './planAppend.ts'
import { Producer, type ProducerConfig } from './Producer.ts'
import { batchRecord, recordCount, recordOffset } from './RecordBatch.ts'
import type { LogRecord, RecordHeaders, RecordInput } from './record.ts'
import { rawKeySerde, Serdes, type Serde, type TopicSerdes } from './Serde.ts'
import { checkOffset, checkPartition, checkTopicName } from './validate.ts'

export interface LogOptions {
  /** Where the log lives. Required: `memoryStorage()` from 'duality' or `idbStorage()` from 'duality/idb'. */
  storage: LogStorage
  /** Sends arriving within this many ms of the first share one transaction (default 0: same task). */
  lingerMs?: number
  /** Rows are packed up to this many bytes (default 60,000: Chromium stores larger values as blobs). */
  maxRowBytes?: number
  /** Durability of appends (default 'relaxed'). */
  durability?: WriteOptions['durability']
  /** Serdes per topic; keys default to strings/bytes as given, values to JSON. */
  serdes?: Record<string, TopicSerdes>
  /** Background retention and compaction; `false` to run it only on demand (default: every 30 s). */
  cleaner?: CleanerOptions | false
  /** The time source, in ms since the epoch (tests pass a fake clock). */
  clock?: () => number
}

export interface FetchOptions {
  topic: string
  partition: number
  offset: number
  /** Stop after this many bytes (whole rows; default 1 MiB). At least one row is returned. */
  maxBytes?: number
  /** Stop after this many records (default: no limit but maxBytes). */
  maxRecords?: number
}

export interface FetchResult<R> {
  records: R[]
  /** Where the next fetch continues; equals highWatermark once caught up. */
  nextOffset: number
  highWatermark: number
  logStartOffset: number
}

/** A record as consumers see it, key and value deserialised by the topic's serdes. */
export interface Message<V = unknown, K = unknown> {
  offset: number
  timestamp: number
  key: K | null
  value: V | null
  headers: RecordHeaders | null
}

export interface PartitionOffsets {
  partition: number
  /** The log start offset: the earliest offset that can be read. */
  low: number
  /** The high watermark: the offset the next record will get. */
  high: number
  /** KafkaJS's name for `high`. */
  offset: number
}

export interface AppendEvent {
  topic: string
  partition: number
  highWatermark: number
}

/**
 * What the producer hands the log: one send (or sendBatch over several topics), its records already
 * serialised and partitioned. A request is all in or all out.
 */
export type AppendRequest = TopicAppend[]

export interface TopicAppend {
  topic: TopicRow
  parts: Map<number, { records: RecordInput[]; sizes: number[] }>
}

export type AppendResult = {
  topic: string
  partition: number
  baseOffset: number
  logStartOffset: number
}[]

const newId = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`

/**
 * The log engine: topics of partitions of record batches on a `LogStorage`. It is what producer,
 * consumer and admin talk to; it holds no partition state of its own beyond caches, so any number
 * of Log instances (tabs) can share one storage.
 */
export class Log {
  readonly storage: LogStorage
  readonly clock: () => number
  readonly maxRowBytes: number
  readonly cleaner: Cleaner
  private readonly durability: WriteOptions['durability']
  private readonly topics = new Map<string, TopicRow>()
  private readonly serdes = new Map<string, TopicSerdes>()
  private readonly listeners = new Set<(events: AppendEvent[]) => void>()
  private readonly appends: GroupCommit<AppendRequest, AppendResult>
  private closed = false

  constructor(options: LogOptions) {
    this.storage = options.storage
    this.clock = options.clock ?? Date.now
    this.maxRowBytes = options.maxRowBytes ?? 60_000
    this.durability = options.durability
    for (const [topic, s] of Object.entries(options.serdes ?? {})) this.serdes.set(topic, s)
    this.appends = new GroupCommit(
      (requests) => this.commitAppends(requests),
      options.lingerMs ?? 0,
    )
    this.cleaner = new Cleaner(
      this,
      options.cleaner === false ? { intervalMs: 0 } : options.cleaner,
    )
  }

  producer(config?: ProducerConfig): Producer {
    return new Producer(this, config)
  }

  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(this, config)
  }

  admin(): Admin {
    return new Admin(this)
  }

  /** Sets the serdes of a topic for this Log (they are code, so they are not stored). */
  setSerdes(topic: string, serdes: TopicSerdes): void {
    this.serdes.set(topic, serdes)
  }

  keySerde(topic: string): Serde<unknown> {
    return this.serdes.get(topic)?.key ?? rawKeySerde
  }

  valueSerde(topic: string): Serde<unknown> {
    return this.serdes.get(topic)?.value ?? jsonSerde
  }

  /** Topic metadata, cached; `fresh` re-reads it (another tab may have changed it). */
  async topic(name: string, fresh = false): Promise<TopicRow> {
    this.checkOpen()
    checkTopicName(name)
    let row = fresh ? undefined : this.topics.get(name)
    if (!row) {
      row = await this.storage.read(['topics'], (tx) => tx.get('topics', name))
      if (!row) {
        this.topics.delete(name)
        throw new UnknownTopicError(
          `Topic "${name}" does not exist; create it with admin().createTopics()`,
        )
      }
      this.topics.set(name, row)
    }
    return row
  }

  forgetTopic(name: string): void {
    this.topics.delete(name)
  }

  append(request: AppendRequest): Promise<AppendResult> {
    this.checkOpen()
    return this.appends.enqueue(request)
  }

  /** Stored records from `offset` on, in bounded chunks. */
  async read(options: FetchOptions): Promise<FetchResult<LogRecord>> {
    const { topic, partition } = options
    const offset = checkOffset(options.offset)
    const meta = await this.topic(topic)
    checkPartition(partition, meta.numPartitions, topic)
    const maxBytes = options.maxBytes ?? 1024 * 1024
    const maxRecords = options.maxRecords ?? Infinity
    return this.storage.read(['partitions', 'batches'], async (tx) => {
      const state = await this.partitionIn(
        tx.get('partitions', [topic, partition]),
        topic,
        partition,
      )
      if (offset < state.logStartOffset || offset > state.nextOffset) {
        throw new OffsetOutOfRangeError(
          `Offset ${offset} is out of range for ${topic}/${partition}: readable offsets are ` +
            `${state.logStartOffset}..${state.nextOffset} (older records were removed by retention)`,
        )
      }
      const high = state.nextOffset
      const records: LogRecord[] = []
      let bytes = 0
      let from = offset
      let full = false
      let perRead = 4
      while (!full) {
        const upper = [topic, partition, []]
        const rows = await tx.getAll('batches', { lower: [topic, partition, from], upper }, perRead)
        for (const row of rows) {
          if (row.baseOffset >= high) break
          const n = recordCount(row)
          for (let i = 0; i < n && records.length < maxRecords; i++) {
            const o = recordOffset(row, i)
            if (o >= offset && o < high) records.push(batchRecord(row, i))
          }
          bytes += row.bytes
          from = row.lastOffset + 1
          if (bytes >= maxBytes || records.length >= maxRecords) {
            full = true
            break
          }
        }
        if (rows.length < perRead || rows.at(-1)!.baseOffset >= high) break
        perRead = Math.min(perRead * 2, 64)
      }
      const last = records.at(-1)
      const nextOffset = full ? Math.min(high, last ? last.offset + 1 : from) : high
      return { records, nextOffset, highWatermark: high, logStartOffset: state.logStartOffset }
    })
  }

  /** Like `read`, with keys and values deserialised by the topic's serdes. */
  async fetch<V = unknown, K = unknown>(
    options: FetchOptions,
  ): Promise<FetchResult<Message<V, K>>> {
    const result = await this.read(options)
    return {
      ...result,
      records: this.deserialize(options.topic, options.partition, result.records) as Message<
        V,
        K
      >[],
    }
  }

  deserialize(topic: string, partition: number, records: LogRecord[]): Message[] {
    const keys = this.keySerde(topic)
    const values = this.valueSerde(topic)
    return records.map((r) => {
      try {
        return {
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key === null ? null : keys.deserialize(r.key, topic),
          value: r.value === null ? null : values.deserialize(r.value, topic),
          headers: r.headers,
        }
      } catch (cause) {
        throw new InvalidRecordError(
          `Record ${topic}/${partition}@${r.offset} cannot be deserialised by the topic's serde`,
          { cause },
        )
      }
    })
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    await this.topic(topic)
    const rows = await this.storage.read(['partitions'], (tx) =>
      tx.getAll('partitions', topicRange(topic)),
    )
    return rows.map((r) => ({
      partition: r.partition,
      low: r.logStartOffset,
      high: r.nextOffset,
      offset: r.nextOffset,
    }))
  }

  /** The earliest offset whose timestamp is >= `timestamp`, or the high watermark if none is. */
  async offsetForTimestamp(topic: string, partition: number, timestamp: number): Promise<number> {
    const meta = await this.topic(topic)
    checkPartition(partition, meta.numPartitions, topic)
    return this.storage.read(['partitions', 'segments', 'batches'], async (tx) => {
      const state = await this.partitionIn(
        tx.get('partitions', [topic, partition]),
        topic,
        partition,
      )
      const segments = await tx.getAll('segments', topicRange(topic, partition))
      segments.push(state.active)
      // Segment and batch maxima let the search skip everything older without reading records.
      const segment = segments.find((s) => s.records > 0 && s.maxTimestamp >= timestamp)
      if (!segment) return state.nextOffset
      let from = Math.max(segment.baseOffset, state.logStartOffset)
      for (;;) {
        const rows = await tx.getAll(
          'batches',
          { lower: [topic, partition, from], upper: [topic, partition, []] },
          16,
        )
        for (const row of rows) {
          if (row.maxTimestamp < timestamp) continue
          const n = recordCount(row)
          for (let i = 0; i < n; i++)
            if (row.timestamps[i]! >= timestamp) return recordOffset(row, i)
        }
        if (rows.length < 16) return state.nextOffset
        from = rows.at(-1)!.lastOffset + 1
      }
    })
  }

  /** Called after each commit with the new high watermarks; returns an unsubscribe function. */
  onAppend(listener: (events: AppendEvent[]) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Tells local listeners about appends made elsewhere (another tab, a sync pull). */
  notifyAppended(events: AppendEvent[]): void {
    for (const listener of this.listeners) listener(events)
  }

  get isClosed(): boolean {
    return this.closed
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.cleaner.stop()
    await this.appends.drain()
    await this.cleaner.idle()
    this.closed = true
    await this.storage.close()
  }

  checkOpen(): void {
    if (this.closed) throw new ClosedError('This log is closed.')
  }

  async partitionIn(
    pending: Promise<PartitionRow | undefined>,
    topic: string,
    partition: number,
  ): Promise<PartitionRow> {
    const state = await pending
    if (!state) {
      this.topics.delete(topic)
      throw new UnknownTopicError(
        `Topic "${topic}" partition ${partition} does not exist (was the topic deleted?)`,
      )
    }
    return state
  }

  private async commitAppends(requests: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
    try {
      return await this.appendTransaction(requests)
    } catch (error) {
      if (requests.length === 1) return [{ ok: false, error }]
      // One request broke the shared transaction (quota, a bad value): retry each alone, so that
      // only the culprit fails and every send stays all-or-nothing.
      const outcomes: Outcome<AppendResult>[] = []
      for (const request of requests) {
        try {
          outcomes.push(...(await this.appendTransaction([request])))
        } catch (e) {
          outcomes.push({ ok: false, error: e })
        }
      }
      return outcomes
    }
  }

  private async appendTransaction(requests: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
    const now = this.clock()
    const topicNames = [...new Set(requests.flatMap((r) => r.map((t) => t.topic.name)))]
    const partKeys: [string, number][] = []
    const seen = new Set<string>()
    for (const t of requests.flat()) {
      for (const p of t.parts.keys()) {
        const id = `${t.topic.name}\u0000${p}`
        if (seen.has(id)) continue
        seen.add(id)
        partKeys.push([t.topic.name, p])
      }
    }
    const events: AppendEvent[] = []
    const outcomes = await this.storage.write(
      ['topics', 'partitions', 'segments', 'batches'],
      async (tx) => {
        const [topicRows, partRows] = await Promise.all([
          Promise.all(topicNames.map((n) => tx.get('topics', n))),
          Promise.all(partKeys.map((k) => tx.get('partitions', k))),
        ])
        const live = new Map(topicNames.map((n, i) => [n, topicRows[i]]))
        const states = new Map(partKeys.map((k, i) => [`${k[0]}\u0000${k[1]}`, partRows[i]]))
        const outcomes: Outcome<AppendResult>[] = []
        // Gather each partition's records across requests, in arrival order.
        const work = new Map<
          string,
          {
            state: PartitionRow
            topic: TopicRow
            records: RecordInput[]
            sizes: number[]
            owners: [number, number][]
          }
        >()
        requests.forEach((request, index) => {
          const gone = request.find((t) => live.get(t.topic.name)?.id !== t.topic.id)
          if (gone) {
            this.topics.delete(gone.topic.name)
            outcomes[index] = {
              ok: false,
              error: new UnknownTopicError(
                `Topic "${gone.topic.name}" was deleted before this send committed`,
              ),
            }
            return
          }
          outcomes[index] = { ok: true, value: [] }
          for (const { topic: row, parts } of request)
            for (const [p, part] of parts) {
              const id = `${row.name}\u0000${p}`
              let w = work.get(id)
              if (!w) {
                const state = states.get(id)
                if (!state) throw new UnknownTopicError(`Topic "${row.name}" has no partition ${p}`)
                w = { state, topic: row, records: [], sizes: [], owners: [] }
                work.set(id, w)
              }
              w.owners.push([index, part.records.length])
              for (let i = 0; i < part.records.length; i++) {
                w.records.push(part.records[i]!)
                w.sizes.push(part.sizes[i]!)
              }
            }
        })
        for (const w of work.values()) {
          const plan = planAppend(
            w.state,
            w.topic.config,
            w.records,
            w.sizes,
            now,
            this.maxRowBytes,
          )
          for (const segment of plan.closed) tx.put('segments', segment)
          for (const batch of plan.batches) tx.put('batches', batch)
          tx.put('partitions', plan.partition)
          let base = w.state.nextOffset
          for (const [index, count] of w.owners) {
            const outcome = outcomes[index]!
            if (outcome.ok) {
              outcome.value.push({
                topic: w.state.topic,
                partition: w.state.partition,
                baseOffset: base,
                logStartOffset: w.state.logStartOffset,
              })
            }
            base += count
          }
          events.push({
            topic: w.state.topic,
            partition: w.state.partition,
            highWatermark: plan.partition.nextOffset,
          })
        }
        return outcomes
      },
      this.durability === undefined ? {} : { durability: this.durability },
    )
    if (events.length > 0) this.notifyAppended(events)
    return outcomes
  }
}

const jsonSerde = Serdes.JSON()

/** Opens a log on a storage and starts its background cleaner. */
export async function openLog(options: LogOptions): Promise<Log> {
  const log = new Log(options)
  log.cleaner.start()
  return log
}

export { newId }
