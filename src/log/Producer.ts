import type { Expectation } from './appendTransaction.ts'
import {
  InvalidArgumentError,
  InvalidOffsetError,
  InvalidRecordError,
  RecordTooLargeError,
} from './errors.ts'
import type { Log, TopicAppend } from './Log.ts'
import type { TopicRow } from './LogStorage.ts'
import { defaultPartitioner, type Partitioner } from './partitioner.ts'
import { recordSize } from './RecordBatch.ts'
import type { RecordHeaders, RecordInput, RecordKey } from './record.ts'
import type { Serde } from './Serde.ts'
import { isCompacted } from './TopicConfig.ts'
import {
  isTopicDefinition,
  topicName,
  validateMessages,
  type TopicDefinition,
} from './TopicDefinition.ts'
import { checkPartition } from './validate.ts'

/** What a send's values are: values for the serde, JSON text to check, or JSON text known good. */
type Encoding = 'values' | 'encoded' | 'checked'

export interface ProducerConfig {
  /** Chooses partitions for messages without an explicit one (default: Kafka's). */
  partitioner?: Partitioner
  /**
   * The topic a send to `topic` is appended to (default: `topic` itself). Records are still
   * validated and partitioned by the named topic's config, and the target must have as many
   * partitions. Sync's producer routes a synced topic's sends into its outbox this way, while
   * the topic itself mirrors the server.
   */
  route?: (topic: string) => string
}

export interface ProducerMessage<V = unknown, K = unknown> {
  key?: K | null
  /** `null` is a tombstone: on a compacted topic it deletes the key. */
  value: V | null
  headers?: RecordHeaders
  partition?: number
  /** Milliseconds since the epoch (default: now). KafkaJS's numeric strings are accepted. */
  timestamp?: number | string
  /**
   * Optimistic concurrency: the partition's end offset (the offset this message will get) as the
   * sender last saw it. If another write came first the whole send is refused with a
   * ConcurrencyError carrying the actual end offset, and nothing of it is written.
   */
  expectedOffset?: number
  /**
   * Optimistic concurrency per key (EventStoreDB's expected revision per stream): the offset of
   * this key's last record in its partition, or -1 for "the key has no record yet". A tombstone
   * counts as the key's last record. Refused as `expectedOffset` is. The lookup reads back at most
   * KEY_LOOKUP_OFFSETS offsets from the end (the log has no key index; see lastKeyOffsets.ts).
   */
  expectedKeyOffset?: number
}

export interface ProducerRecord<V = unknown, K = unknown> {
  /** The topic's name, or its definition (`defineTopic`): then messages are typed by its schema. */
  topic: string | TopicDefinition<V, K>
  messages: ProducerMessage<NoInfer<V>, NoInfer<K>>[]
}

/** A send as the producer works on it: the topic by name. */
type NamedRecord = ProducerRecord & { topic: string }

/** One entry per partition a send wrote to, as KafkaJS reports it. */
export interface RecordMetadata {
  topicName: string
  partition: number
  errorCode: 0
  /** Offset of the send's first record in this partition. */
  baseOffset: number
  logAppendTime: -1
  logStartOffset: number
}

/**
 * KafkaJS's producer over the local log. Every message is validated and serialised before anything
 * is written, so a send with one bad message writes none of them.
 */
export class Producer {
  private readonly sendIndex = new Map<string, number>()
  private readonly partitioner: Partitioner
  private readonly route: (topic: string) => string

  constructor(
    private readonly log: Log,
    config: ProducerConfig = {},
  ) {
    this.partitioner = config.partitioner ?? defaultPartitioner
    this.route = config.route ?? ((topic) => topic)
  }

  /** Nothing to connect to in-process; kept so KafkaJS code runs unchanged. */
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  async send<V = unknown, K = unknown>(record: ProducerRecord<V, K>): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [record as ProducerRecord] })
  }

  /**
   * A send whose values are already JSON text (`Serdes.JSON()`'s output): what a page client
   * hands its worker, so values cross the thread boundary as strings instead of object graphs.
   * A topic with another value serde gets each value parsed and passed through its serde.
   *
   * Each text is checked to be exactly one JSON value (a row joins them into one JSON array, so
   * `1,2` would shift its neighbours). `{ checked: true }` skips that for texts that come straight
   * from `Serdes.JSON()`: the page client's wire, where the check cost ~20% of page-side sends.
   */
  async sendEncoded(
    record: ProducerRecord<string | null>,
    options: { checked?: boolean } = {},
  ): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [record] }, options.checked ? 'checked' : 'encoded')
  }

  /**
   * Validates and serialises sends into an append request without appending it (for callers that
   * commit it together with other writes, see Log.transact).
   */
  async prepareBatch(topicMessages: ProducerRecord[]): Promise<TopicAppend[]> {
    const metas = await Promise.all(topicMessages.map((r) => this.targets(topicName(r.topic))))
    let checked = this.checkSchemas(topicMessages, 'values')
    if (checked instanceof Promise) checked = await checked
    return checked
      .map(([record, encoding], i) => this.prepare(record, metas[i]!, encoding))
      .filter((t) => t.parts.size > 0)
  }

  /** Several topics in one all-or-nothing append. */
  async sendBatch(
    { topicMessages }: { topicMessages: ProducerRecord[] },
    encoded: Encoding = 'values',
  ): Promise<RecordMetadata[]> {
    if (!Array.isArray(topicMessages)) {
      throw new InvalidArgumentError('sendBatch needs { topicMessages: [{ topic, messages }] }')
    }
    for (const record of topicMessages) {
      if (record === null || typeof record !== 'object' || !Array.isArray(record.messages)) {
        throw new InvalidArgumentError('send needs { topic, messages: [{ key, value }] }')
      }
    }
    // The append's place in line is taken now, before any await: sends made in one order
    // land in that order, even when one of them must first look its topic up.
    const request = (async () => {
      const metas = await Promise.all(topicMessages.map((r) => this.targets(topicName(r.topic))))
      // Every message of every topic is checked before any is prepared: all or nothing.
      let checked = this.checkSchemas(topicMessages, encoded)
      if (checked instanceof Promise) checked = await checked
      return checked
        .map(([record, encoding], i) => this.prepare(record, metas[i]!, encoding))
        .filter((t) => t.parts.size > 0)
    })()
    const results = await this.log.append(request)
    // KafkaJS reports the topic that was sent to: a routed send's target (an outbox) is ours.
    const named = new Map(
      topicMessages.map((r) => [this.route(topicName(r.topic)), topicName(r.topic)]),
    )
    return results.map((r) => ({
      topicName: named.get(r.topic) ?? r.topic,
      partition: r.partition,
      errorCode: 0,
      baseOffset: r.baseOffset,
      logAppendTime: -1,
      logStartOffset: r.logStartOffset,
    }))
  }

  /**
   * The topic a send names (its config and partitions rule the records) and the one its records
   * go to: the same, unless the producer routes it elsewhere (a synced topic's outbox).
   */
  private async targets(topic: string): Promise<[meta: TopicRow, target: TopicRow]> {
    const meta = await this.log.topic(topic)
    const to = this.route(topic)
    if (to === topic) return [meta, meta]
    const target = await this.log.topic(to)
    if (target.numPartitions !== meta.numPartitions) {
      throw new InvalidArgumentError(
        `Sends to "${topic}" go to "${to}", which has ${target.numPartitions} partitions, not ${meta.numPartitions}`,
      )
    }
    return [meta, target]
  }

  /**
   * A typed topic's messages, validated by its schema (the log's definition, else the one the send
   * names) and stamped with its version. Encoded values are parsed for the schema to see, and go on
   * as values: the schema's output is what gets written.
   */
  private checkSchemas(
    records: ProducerRecord[],
    encoded: Encoding,
  ): [NamedRecord, Encoding][] | Promise<[NamedRecord, Encoding][]> {
    const checked = records.map((r) => this.checkSchema(r, encoded))
    // Untyped sends take no extra turn of the event loop: their timing stays what it was.
    if (checked.some((c) => c instanceof Promise)) return Promise.all(checked)
    return checked as [NamedRecord, Encoding][]
  }

  private checkSchema(
    record: ProducerRecord,
    encoded: Encoding,
  ): [NamedRecord, Encoding] | Promise<[NamedRecord, Encoding]> {
    const topic = topicName(record.topic)
    const named = { topic, messages: record.messages }
    const def =
      this.log.schema(topic) ?? (isTopicDefinition(record.topic) ? record.topic : undefined)
    return def ? this.validated(def, named, encoded) : [named, encoded]
  }

  private async validated(
    def: TopicDefinition,
    record: NamedRecord,
    encoded: Encoding,
  ): Promise<[NamedRecord, Encoding]> {
    const { topic } = record
    const messages =
      encoded === 'values'
        ? record.messages
        : record.messages.map((m) =>
            m === null || typeof m !== 'object' || m.value === null || m.value === undefined
              ? m
              : {
                  ...m,
                  value: JSON.parse(
                    encoded === 'checked' ? (m.value as string) : checkJsonText(m.value, topic),
                  ) as unknown,
                },
          )
    return [{ topic, messages: await validateMessages(def, messages) }, 'values']
  }

  private prepare(
    { topic, messages }: NamedRecord,
    [meta, target]: [TopicRow, TopicRow],
    encoded: Encoding,
  ): TopicAppend {
    const { numPartitions, config } = meta
    const compacted = isCompacted(config)
    const maxBytes = config['max.message.bytes']
    const keySerde = this.log.keySerde(topic)
    const serde = this.log.valueSerde(topic)
    const valueSerde: Pick<Serde<unknown>, 'serialize'> = encoded === 'values'
      ? serde
      : serde.format !== 'json'
        ? { serialize: (text, t) => serde.serialize(JSON.parse(checkJsonText(text, t)), t) }
        : encoded === 'checked'
          ? { serialize: (text) => text as string }
          : { serialize: (text) => checkJsonText(text, topic) }
    const index = this.sendIndex.get(topic) ?? Math.floor(Math.random() * numPartitions)
    this.sendIndex.set(topic, index + 1)
    const now = this.log.clock()
    const parts: TopicAppend['parts'] = new Map()
    messages.forEach((m, i) => {
      const where = `Message ${i} to "${topic}"`
      if (m === null || typeof m !== 'object')
        throw new InvalidRecordError(`${where} is not an object`)
      const key =
        m.key === undefined || m.key === null
          ? null
          : serialize(() => keySerde.serialize(m.key, topic), `${where}: its key`)
      if (key === null && compacted) {
        throw new InvalidRecordError(
          `${where} has no key, but the topic is compacted: compacted topics need keyed records`,
        )
      }
      const value =
        m.value === undefined || m.value === null
          ? null
          : serialize(() => valueSerde.serialize(m.value, topic), `${where}: its value`)
      const headers =
        m.headers === undefined || m.headers === null ? null : checkHeaders(m.headers, where)
      const timestamp = m.timestamp === undefined ? now : Number(m.timestamp)
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
        throw new InvalidRecordError(
          `${where}: timestamp must be ms since the epoch, got ${String(m.timestamp)}`,
        )
      }
      const size = recordSize(key, value, headers)
      if (size > maxBytes) {
        throw new RecordTooLargeError(
          `${where} is ${size} bytes, over the topic's max.message.bytes (${maxBytes}); split it or raise the limit`,
        )
      }
      const partition = checkPartition(
        m.partition === undefined || m.partition === null
          ? this.partitioner({ topic, numPartitions, key, sendIndex: index })
          : m.partition,
        numPartitions,
        topic,
      )
      let part = parts.get(partition)
      if (!part) parts.set(partition, (part = { records: [], sizes: [] }))
      const input: RecordInput = { timestamp, key, value, headers }
      const expectation = expectationOf(m, key, where)
      if (expectation) {
        if (target !== meta) {
          throw new InvalidArgumentError(
            `${where}: expectedOffset and expectedKeyOffset are not supported on synced topics yet ` +
              `(the server would have to check them; a local check could not hold against other clients)`,
          )
        }
        ;(part.expect ??= [])[part.records.length] = expectation
      }
      part.records.push(input)
      part.sizes.push(size)
    })
    return { topic: target, parts, json: serde.format === 'json' }
  }
}

/** A message's stated expectations, checked; undefined when it states none. */
function expectationOf(m: ProducerMessage, key: RecordKey, where: string): Expectation | undefined {
  const { expectedOffset: offset, expectedKeyOffset: keyOffset } = m
  if (offset === undefined && keyOffset === undefined) return undefined
  if (offset !== undefined && (!Number.isSafeInteger(offset) || offset < 0)) {
    throw new InvalidOffsetError(`${where}: expectedOffset must be an offset (>= 0), got ${offset}`)
  }
  if (keyOffset !== undefined) {
    if (!Number.isSafeInteger(keyOffset) || keyOffset < -1) {
      throw new InvalidOffsetError(
        `${where}: expectedKeyOffset must be an offset, or -1 for "no record yet", got ${keyOffset}`,
      )
    }
    if (key === null) throw new InvalidRecordError(`${where} has expectedKeyOffset but no key`)
  }
  return {
    ...(offset === undefined ? {} : { offset }),
    ...(keyOffset === undefined ? {} : { keyOffset }),
  }
}

/** Runs a serde; whatever it throws becomes an InvalidRecordError naming the message. */
function serialize<T>(run: () => T, what: string): T {
  try {
    return run()
  } catch (cause) {
    if (cause instanceof InvalidRecordError) throw cause
    throw new InvalidRecordError(
      `${what} could not be serialised: ${String((cause as Error)?.message ?? cause)}`,
      {
        cause,
      },
    )
  }
}

/**
 * An encoded value must be exactly one JSON value: the texts of a row are joined into one JSON
 * array, so a text like `1,2` would shift its neighbours' values.
 */
function checkJsonText(text: unknown, topic: string): string {
  let parsed: unknown
  try {
    parsed = typeof text === 'string' ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || parsed === null) {
    throw new InvalidRecordError(
      `Topic "${topic}": an encoded value must be the JSON text of one value other than null`,
    )
  }
  return text as string
}

function checkHeaders(headers: unknown, where: string): RecordHeaders {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new InvalidRecordError(`${where}: headers must be an object of strings or Uint8Arrays`)
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      throw new InvalidRecordError(`${where}: header "${name}" must be a string or Uint8Array`)
    }
  }
  return headers as RecordHeaders
}
