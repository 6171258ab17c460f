import { InvalidRecordError } from './errors.ts'
import { utf8Decode, utf8Encode } from './utf8.ts'

/**
 * Turns a topic's values (or keys) into what the log stores and back. `null` never reaches a serde:
 * it is a tombstone as a value and "no key" as a key, as in Kafka.
 */
export interface Serde<T> {
  serialize(data: T, topic: string): string | Uint8Array
  deserialize(data: string | Uint8Array, topic: string): T
  /**
   * 'json' promises that serialize returns JSON text and deserialize is JSON.parse: the log may then
   * store a batch's values as one JSON array and parse them in one go.
   */
  readonly format?: 'json'
}

const text = (data: string | Uint8Array): string =>
  typeof data === 'string' ? data : utf8Decode(data)

/** Serdes by the names Kafka Streams uses. JSON is every topic's default value serde. */
export const Serdes = {
  JSON<T = unknown>(): Serde<T> {
    return {
      format: 'json',
      serialize(data, topic) {
        let json: string | undefined
        try {
          json = JSON.stringify(data)
        } catch (cause) {
          throw new InvalidRecordError(`Topic "${topic}": value is not JSON-serialisable`, {
            cause,
          })
        }
        // NaN, Infinity and invalid Dates stringify to "null": stored, it would read back as a
        // tombstone and delete the key on a compacted topic.
        if (json === 'null') {
          throw new InvalidRecordError(
            `Topic "${topic}": value ${String(data)} has no JSON form other than null; send null itself for a tombstone`,
          )
        }
        if (json === undefined) {
          throw new InvalidRecordError(
            `Topic "${topic}": value ${String(data)} has no JSON form (use null for a tombstone)`,
          )
        }
        return json
      },
      deserialize: (data) => JSON.parse(text(data)) as T,
    }
  },
  String(): Serde<string> {
    return {
      serialize(data, topic) {
        if (typeof data !== 'string') {
          throw new InvalidRecordError(
            `Topic "${topic}": the String serde takes strings, got ${typeof data}`,
          )
        }
        return data
      },
      deserialize: text,
    }
  },
  Bytes(): Serde<Uint8Array> {
    return {
      serialize(data, topic) {
        if (!(data instanceof Uint8Array)) {
          throw new InvalidRecordError(`Topic "${topic}": the Bytes serde takes a Uint8Array`)
        }
        return data
      },
      deserialize: (data) => (typeof data === 'string' ? utf8Encode(data) : data),
    }
  },
}

export interface TopicSerdes {
  key?: Serde<unknown>
  value?: Serde<unknown>
}

/** A key serde that passes strings and bytes through: the default, as KafkaJS takes both. */
export const rawKeySerde: Serde<unknown> = {
  serialize(data, topic) {
    if (typeof data === 'string' || data instanceof Uint8Array) return data
    throw new InvalidRecordError(
      `Topic "${topic}": a key must be a string or Uint8Array (or set a key serde for this topic), got ${typeof data}`,
    )
  },
  deserialize: (data) => data,
}
