import { Admin } from './Admin.ts'
import { Cleaner, type CleanerOptions } from './Cleaner.ts'
import { Consumer, type ConsumerConfig } from './Consumer.ts'
import {
  ClosedError,
  InvalidRecordError,
  OffsetOutOfRangeError,
  UnknownTopicError,
  InvalidConfigError,
  SchemaVersionError,
} from './errors.ts'
import { followerRequest, type FollowerRecord } from './followerRequest.ts'
import { GroupCommit, type Outcome } from './GroupCommit.ts'
import {
  type BatchRow,
  type LogStorage,
  type PartitionRow,
  type TopicRow,
  type WriteOptions,
  topicRange,
} from './LogStorage.ts'
export type { AppendEvent, AppendRequest, AppendResult, TopicAppend } from './appendTransaction.ts'
import {
  appendTransaction,
  type AppendEvent,
  type AppendRequest,
  type AppendResult,
} from './appendTransaction.ts'
import { Producer, type ProducerConfig } from './Producer.ts'
import {
  batchRecord,
  rawValue,
  recordCount,
  recordOffset,
  valueColumn,
  type ValueColumn,
} from './RecordBatch.ts'
import type { LogRecord, RecordHeaders, RecordValue } from './record.ts'
import { rollPartitions } from './rollSegment.ts'
import { rawKeySerde, Serdes, type Serde, type TopicSerdes } from './Serde.ts'
import { checkOffset, checkPartition, checkTopicName } from './validate.ts'
import {
  SCHEMA_VERSION_HEADER,
  upcastRecord,
  type AnyTopicDefinition,
  type TopicDefinition,
} from './TopicDefinition.ts'

export interface LogOptions {
  /** Where the log lives. Required: `memoryStorage()` from 'duality' or `idbStorage()` from 'duality/idb'. */
  storage: LogStorage
  /** Sends arriving within this many ms of the first share one transaction (default 0: same task). */
  lingerMs?: number
  /** Rows are packed up to this many bytes (default 256 KiB; measured in docs/benchmarks.md). */
  maxRowBytes?: number
  /** Durability of appends (default 'relaxed'). */
  durability?: WriteOptions['durability']
  /** Serdes per topic; keys default to strings/bytes as given, values to JSON. */
  serdes?: Record<string, TopicSerdes>
  /**
   * Typed topics (`defineTopic`): sends to them are validated by their schemas and stamped with
   * their version; reads bring older records up to the current version (see TopicDefinition.ts).
   */
  schemas?: readonly AnyTopicDefinition[]
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

/** One partition after `Log.roll`. */
export interface RollResult {
  topic: string
  partition: number
  /** The base offset of the active segment now: the log end offset, where the next append goes. */
  baseOffset: number
  /** False when the active segment was empty: there was nothing to close. */
  rolled: boolean
}

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
  /** Partition heads this Log committed last: a guess that each append verifies (appendTransaction). */
  private readonly heads = new Map<string, PartitionRow>()
  private readonly serdes = new Map<string, TopicSerdes>()
  private readonly schemas = new Map<string, TopicDefinition>()
  private readonly listeners = new Set<(events: AppendEvent[], local: boolean) => void>()
  private readonly appends: GroupCommit<AppendRequest, AppendResult>
  private closed = false

  constructor(options: LogOptions) {
    // NaN or Infinity would slip through every comparison below: a linger timer of NaN fires
    // at once in some runtimes and never in none, a NaN row limit packs nothing. Refused up front.
    const { lingerMs = 0, maxRowBytes = 256 * 1024 } = options
    if (!Number.isSafeInteger(lingerMs) || lingerMs < 0 || lingerMs > 2_147_483_647) {
      throw new InvalidConfigError(
        `lingerMs must be an integer from 0 to 2147483647 ms, not ${String(lingerMs)}`,
      )
    }
    if (!Number.isSafeInteger(maxRowBytes) || maxRowBytes < 1) {
      throw new InvalidConfigError(
        `maxRowBytes must be a positive integer, not ${String(maxRowBytes)}`,
      )
    }
    this.storage = options.storage
    this.clock = options.clock ?? Date.now
    this.maxRowBytes = maxRowBytes
    this.durability = options.durability
    for (const [topic, s] of Object.entries(options.serdes ?? {})) this.serdes.set(topic, s)
    for (const def of options.schemas ?? []) this.setSchema(def)
    this.appends = new GroupCommit((requests) => this.commitAppends(requests), lingerMs)
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

  /** Makes a topic typed for this Log (its definition is code, so it is not stored). */
  setSchema(def: AnyTopicDefinition): void {
    this.schemas.set(def.name, def)
  }

  /** The topic's definition, if it is typed. */
  schema(topic: string): TopicDefinition | undefined {
    return this.schemas.get(topic)
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

  /** Drops every cached topic (another tab created or deleted topics). */
  forgetTopics(): void {
    this.topics.clear()
  }

  /**
   * Queues an append. The request may still be in preparation (a promise): its place in the queue,
   * and so in the partitions' order, is taken now, when the send was made.
   */
  append(request: AppendRequest | Promise<AppendRequest>): Promise<AppendResult> {
    this.checkOpen()
    return this.appends.enqueue(request)
  }

  /**
   * Appends records to several topics and commits a group's offsets in ONE transaction, outside
   * the group commit: all of it lands or none (what exactly-once stream processing is built on).
   * `tag` rides on the transaction's append events (AppendEvent.tag), here and in other tabs.
   */
  async transact(
    request: AppendRequest,
    commit?: { groupId: string; offsets: { topic: string; partition: number; offset: number }[] },
    options: { tag?: string } = {},
  ): Promise<AppendResult> {
    this.checkOpen()
    const now = this.clock()
    const offsets = commit?.offsets.map((o) => ({
      groupId: commit!.groupId,
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      metadata: null,
      committedAt: now,
    }))
    const { outcomes, events, heads } = await appendTransaction(this.storage, [request], {
      now,
      maxRowBytes: this.maxRowBytes,
      durability: this.durability,
      heads: this.heads,
      ...(offsets ? { offsets } : {}),
    })
    for (const head of heads) this.heads.set(`${head.topic}\u0000${head.partition}`, head)
    const { tag } = options
    if (events.length > 0)
      this.notifyAppended(tag === undefined ? events : events.map((e) => ({ ...e, tag })), true)
    const outcome = outcomes[0]!
    if (!outcome.ok) throw outcome.error
    return outcome.value
  }

  /**
   * Copies a leader's records into a partition with the leader's offsets, gaps included (Kafka's
   * appendAsFollower): how a synced topic mirrors the server's. Offsets must continue at or after
   * the partition's end, increasing; with `commit`, a group's offsets commit in the same
   * transaction (sync confirms its outbox this way).
   */
  async appendAsFollower(
    topic: string,
    partition: number,
    records: readonly FollowerRecord[],
    commit?: { groupId: string; offsets: { topic: string; partition: number; offset: number }[] },
  ): Promise<AppendResult> {
    if (records.length === 0 && !commit) return []
    return this.transact(followerRequest(await this.topic(topic), partition, records), commit)
  }

  /**
   * Closes the active segment of a partition, or of every partition of the topic, so the next
   * append starts a new one (Kafka's `UnifiedLog.roll`): what was written so far becomes
   * cleanable, by compaction as by retention, at the cleaner's next run. An empty active segment
   * stays as it is. All the partitions roll in one transaction, or none. Throws
   * UnknownTopicError for a topic that does not exist and InvalidPartitionsError for a partition
   * it does not have.
   */
  async roll(topic: string, partition?: number): Promise<RollResult[]> {
    const meta = await this.topic(topic)
    const partitions =
      partition === undefined
        ? Array.from({ length: meta.numPartitions }, (_, p) => p)
        : [checkPartition(partition, meta.numPartitions, topic)]
    const rolled = await rollPartitions(this.storage, topic, partitions, this.clock(), {
      topicId: meta.id,
    })
    if (!rolled) {
      this.topics.delete(topic)
      throw new UnknownTopicError(
        `Topic "${topic}" was deleted before its segments could roll (in another tab?)`,
      )
    }
    return rolled.map(({ head, rolled }) => {
      // The head this Log wrote: its next append need not find its cached head stale.
      if (rolled) this.heads.set(`${topic}\u0000${head.partition}`, head)
      return { topic, partition: head.partition, baseOffset: head.active.baseOffset, rolled }
    })
  }

  /** Stored records from `offset` on, in bounded chunks, values as stored (see `fetch`). */
  read(options: FetchOptions): Promise<FetchResult<LogRecord>> {
    return this.scan(options, batchRecord)
  }

  /** Records from `offset` on, in bounded chunks, keys and values deserialised by the topic's serdes. */
  fetch<V = unknown, K = unknown>(options: FetchOptions): Promise<FetchResult<Message<V, K>>> {
    const { topic, partition } = options
    const keys = this.keySerde(topic)
    const values = this.valueSerde(topic)
    const json = values.format === 'json'
    const schema = this.schemas.get(topic)
    const currentVersion = schema && String(schema.version)
    return this.scan(options, (row, column, i) => {
      const key = column.keys[i]!
      let message: Message<V, K>
      try {
        message = {
          offset: recordOffset(row, i),
          timestamp: row.timestamps[i]!,
          key: (key === null ? null : keys.deserialize(key, topic)) as K | null,
          // A JSON row was parsed in one go; its values need no serde call.
          value: (json && column.parsed
            ? column.parsed[i]
            : deserializeValue(values, rawValue(column, i), topic)) as V | null,
          headers: row.headers?.[i] ?? null,
        }
      } catch (cause) {
        throw new InvalidRecordError(
          `Record ${topic}/${partition}@${recordOffset(row, i)} cannot be deserialised by the topic's serde`,
          { cause },
        )
      }
      // Already current (the common case): nothing to look at but the header.
      if (!schema || message.headers?.[SCHEMA_VERSION_HEADER] === currentVersion) return message
      // Readers see the current shape only; the stored record stays as it was written.
      const where = `Record ${topic}/${partition}@${message.offset}`
      const current = upcastRecord(schema, message.value, message.headers, where)
      message.value = current.value as V | null
      message.headers = current.headers
      return message
    })
  }

  private async scan<R>(
    options: FetchOptions,
    make: (row: BatchRow, column: ValueColumn, i: number) => R,
  ): Promise<FetchResult<R>> {
    const { topic, partition } = options
    const offset = checkOffset(options.offset)
    const meta = await this.topic(topic)
    checkPartition(partition, meta.numPartitions, topic)
    const maxBytes = options.maxBytes ?? 1024 * 1024
    const maxRecords = options.maxRecords ?? Infinity
    const rows = await this.storage.read(['partitions', 'batches'], async (tx) => {
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
      // Rows first, records after the transaction: decoding never holds it open.
      const rows: BatchRow[] = []
      let bytes = 0
      let records = 0
      let from = offset
      let perRead = 2
      for (;;) {
        const upper = [topic, partition, []]
        const got = await tx.getAll('batches', { lower: [topic, partition, from], upper }, perRead)
        for (const row of got) {
          if (row.baseOffset >= state.nextOffset) break
          rows.push(row)
          bytes += row.bytes
          records += row.baseOffset >= offset ? recordCount(row) : countFrom(row, offset)
          from = row.lastOffset + 1
          if (bytes >= maxBytes || records >= maxRecords) return { state, rows, full: true }
        }
        if (got.length < perRead || got.at(-1)!.baseOffset >= state.nextOffset) {
          return { state, rows, full: false }
        }
        perRead = Math.min(perRead * 2, 64)
      }
    })
    const high = rows.state.nextOffset
    const out: R[] = []
    let next = high
    outer: for (const row of rows.rows) {
      const n = recordCount(row)
      const column = valueColumn(row)
      for (let i = 0; i < n; i++) {
        const o = recordOffset(row, i)
        if (o < offset || o >= high) continue
        if (out.length >= maxRecords) {
          next = o
          break outer
        }
        let record: R
        try {
          record = make(row, column, i)
        } catch (error) {
          // A record this code cannot read (newer schema) ends the chunk before it: the reader
          // gets what it understands, and meets the error on its next fetch, at that record.
          if (!(error instanceof SchemaVersionError) || out.length === 0) throw error
          next = o
          break outer
        }
        out.push(record)
      }
      if (rows.full) next = Math.min(high, row.lastOffset + 1)
    }
    return {
      records: out,
      nextOffset: next,
      highWatermark: high,
      logStartOffset: rows.state.logStartOffset,
    }
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    await this.topic(topic)
    const rows = await this.storage.read(['partitions'], (tx) =>
      tx.getAll('partitions', topicRange(topic)),
    )
    if (rows.length === 0) {
      this.topics.delete(topic)
      throw new UnknownTopicError(
        `Topic "${topic}" does not exist (was it deleted in another tab?)`,
      )
    }
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

  /**
   * Called after each commit with the new high watermarks (`local`: this Log wrote them), and for
   * appends made elsewhere that were reported through `notifyAppended`. Returns an unsubscribe.
   */
  onAppend(listener: (events: AppendEvent[], local: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Tells local listeners about appends made elsewhere (another tab, a sync pull). */
  notifyAppended(events: AppendEvent[], local = false): void {
    // Another tab wrote: the heads this tab cached for those partitions are stale now.
    if (!local) for (const e of events) this.heads.delete(`${e.topic}\u0000${e.partition}`)
    for (const listener of this.listeners) {
      try {
        listener(events, local)
      } catch (error) {
        // A listener's bug must not look like a failed commit (the append is already durable).
        queueMicrotask(() => {
          throw error
        })
      }
    }
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
    if (requests.every((r) => r.length === 0)) return requests.map(() => ({ ok: true, value: [] }))
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
    const { outcomes, events, stale, heads } = await appendTransaction(this.storage, requests, {
      now: this.clock(),
      maxRowBytes: this.maxRowBytes,
      durability: this.durability,
      heads: this.heads,
    })
    for (const topic of stale) this.topics.delete(topic)
    for (const head of heads) this.heads.set(`${head.topic}\u0000${head.partition}`, head)
    if (events.length > 0) this.notifyAppended(events, true)
    return outcomes
  }
}

const jsonSerde = Serdes.JSON()

/** Records of a row at or after `offset` (only the first row of a read starts before it). */
function countFrom(row: BatchRow, offset: number): number {
  let n = 0
  for (let i = recordCount(row) - 1; i >= 0 && recordOffset(row, i) >= offset; i--) n++
  return n
}

function deserializeValue(serde: Serde<unknown>, value: RecordValue, topic: string): unknown {
  return value === null ? null : serde.deserialize(value, topic)
}

/** Opens a log on a storage and starts its background cleaner. */
export async function openLog(options: LogOptions): Promise<Log> {
  const log = new Log(options)
  log.cleaner.start()
  return log
}

export { newId }
