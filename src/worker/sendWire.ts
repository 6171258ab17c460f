import { InvalidArgumentError, InvalidRecordError } from '../log/errors.ts'
import type { ProducerMessage, ProducerRecord } from '../log/Producer.ts'
import type { RecordHeaders } from '../log/record.ts'
import { Serdes } from '../log/Serde.ts'
import { topicName } from '../log/TopicDefinition.ts'

/**
 * The sends of one page task as they cross to the worker: one message, in flat columns, values
 * already JSON text. Cloning a few arrays of strings costs a fraction of cloning thousands of small
 * object graphs, and a thousand one-record sends cost no more than one send of a thousand.
 * A send whose values JSON would change (bytes, Dates, Maps at the top level) travels as it is,
 * for the worker's own serde to decide.
 */
export interface SendWire {
  sends: (
    { kind: 'json'; topic: string; count: number } | { kind: 'raw'; record: ProducerRecord }
  )[]
  /** Per record of the 'json' sends, in order. Keys as given: the worker's key serde applies. */
  keys: unknown[]
  /** `Serdes.JSON()` text; null is a tombstone. */
  values: (string | null)[]
  partitions: (number | undefined)[] | null
  timestamps: (number | string | undefined)[] | null
  headers: (RecordHeaders | undefined)[] | null
  /** Per record: its expectedOffset and expectedKeyOffset (optimistic concurrency), if any. */
  expected: ([offset: number | undefined, keyOffset: number | undefined] | undefined)[] | null
}

const json = Serdes.JSON()

/** Values JSON carries as they are (at the top level). */
function plainJson(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** Builds the wire form of a task's sends (page side); a send that cannot be encoded throws. */
export class SendWireBuilder {
  readonly wire: SendWire = {
    sends: [],
    keys: [],
    values: [],
    partitions: null,
    timestamps: null,
    headers: null,
    expected: null,
  }

  /** Adds one send; throws (adding nothing) if the send is malformed or a value is not JSON. */
  add(record: ProducerRecord): void {
    if (record === null || typeof record !== 'object' || !Array.isArray(record.messages)) {
      throw new InvalidArgumentError('send needs { topic, messages: [{ key, value }] }')
    }
    // A topic's definition holds functions (its schema): only its name can cross.
    const topic = topicName(record.topic)
    const { messages } = record
    if (!messages.every((m) => plainJson(m?.value))) {
      this.wire.sends.push({ kind: 'raw', record: { topic, messages } })
      return
    }
    const values = messages.map((m, i) => {
      if (m === null || typeof m !== 'object') {
        throw new InvalidRecordError(`Message ${i} to "${topic}" is not an object`)
      }
      return m.value === undefined || m.value === null
        ? null
        : (json.serialize(m.value, topic) as string)
    })
    const w = this.wire
    const base = w.values.length
    messages.forEach((m, i) => {
      w.keys.push(m.key ?? null)
      w.values.push(values[i]!)
      if (m.partition !== undefined) (w.partitions ??= [])[base + i] = m.partition
      if (m.timestamp !== undefined) (w.timestamps ??= [])[base + i] = m.timestamp
      if (m.headers !== undefined) (w.headers ??= [])[base + i] = m.headers
      if (m.expectedOffset !== undefined || m.expectedKeyOffset !== undefined) {
        ;(w.expected ??= [])[base + i] = [m.expectedOffset, m.expectedKeyOffset]
      }
    })
    w.sends.push({ kind: 'json', topic, count: messages.length })
  }
}

/** Splits a wire back into sends (worker side): 'json' ones with their values still JSON text. */
export function decodeSendWire(
  wire: SendWire,
): (
  | { encoded: true; record: ProducerRecord<string | null> }
  | { encoded: false; record: ProducerRecord }
)[] {
  let at = 0
  return wire.sends.map((send) => {
    if (send.kind === 'raw') return { encoded: false, record: send.record }
    const messages: ProducerMessage<string | null>[] = []
    for (let i = at; i < at + send.count; i++) {
      const message: ProducerMessage<string | null> = {
        key: wire.keys[i] ?? null,
        value: wire.values[i]!,
      }
      const partition = wire.partitions?.[i]
      const timestamp = wire.timestamps?.[i]
      const headers = wire.headers?.[i]
      if (partition !== undefined) message.partition = partition
      if (timestamp !== undefined) message.timestamp = timestamp
      if (headers !== undefined) message.headers = headers
      const expected = wire.expected?.[i]
      if (expected?.[0] !== undefined) message.expectedOffset = expected[0]
      if (expected?.[1] !== undefined) message.expectedKeyOffset = expected[1]
      messages.push(message)
    }
    at += send.count
    return { encoded: true, record: { topic: send.topic, messages } }
  })
}
