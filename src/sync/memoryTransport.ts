import {
  InvalidArgumentError,
  OffsetOutOfRangeError,
  OutOfOrderSequenceError,
  ProducerFencedError,
} from '../log/errors.ts'
import type { Log } from '../log/Log.ts'
import type { ProducerCoordinates, SyncTransport } from './SyncTransport.ts'

export interface MemoryTransportOptions {
  /** How long a live read waits for records at the end (default 200 ms). */
  pollMs?: number
  /** Records per read (default 1,000). */
  maxRecords?: number
}

/**
 * A server in the same process: its log is a duality Log (the leader) and its idempotent
 * producers follow the Durable Streams rules (epochs fence, a repeated sequence is a duplicate, a
 * skipped one is refused). For tests of sync without HTTP, and as the reference the HTTP
 * transport is checked against (the transport contract suite runs on both).
 */
export function memoryTransport(server: Log, options: MemoryTransportOptions = {}): SyncTransport {
  const pollMs = options.pollMs ?? 200
  const maxRecords = options.maxRecords ?? 1000
  const producers = new Map<string, { epoch: number; seq: number }>()
  // One append at a time: validation and append must not interleave (the protocol requires it).
  let queue: Promise<unknown> = Promise.resolve()

  const waitForAppend = (topic: string, partition: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        off()
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, pollMs)
      const off = server.onAppend((events) => {
        if (events.some((e) => e.topic === topic && e.partition === partition)) done()
      })
      signal?.addEventListener('abort', done)
    })

  return {
    async describeTopic(topic) {
      const row = await server.topic(topic, true)
      const entries = Object.entries(row.config).map(([name, value]) => ({
        name,
        value: String(value),
      }))
      return {
        name: row.name,
        id: row.id,
        numPartitions: row.numPartitions,
        configEntries: entries,
      }
    },

    async read(topic, partition, from, { live, signal }) {
      const range = (await server.offsets(topic)).find((o) => o.partition === partition)
      if (!range) throw new InvalidArgumentError(`Topic "${topic}" has no partition ${partition}`)
      const offset = from === 'start' ? range.low : from
      if (offset < range.low) {
        throw new OffsetOutOfRangeError(
          `Offset ${offset} of ${topic}-${partition} is below the log start (${range.low})`,
        )
      }
      if (live && offset >= range.high) await waitForAppend(topic, partition, signal)
      const chunk = await server.read({ topic, partition, offset, maxRecords })
      return {
        records: chunk.records.map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key as string | null,
          value: r.value as string | null,
          headers: r.headers,
        })),
        nextOffset: Math.max(chunk.nextOffset, offset),
        upToDate: chunk.nextOffset >= chunk.highWatermark,
      }
    },

    append(topic, partition, records, producer) {
      const run = queue.then(async () => {
        const id = `${topic}\u0000${partition}\u0000${producer.id}`
        const state = producers.get(id)
        const verdict = check(state, producer)
        if (verdict === 'duplicate') return { duplicate: true }
        await server.producer().sendEncoded({
          topic,
          messages: records.map((r) => ({
            key: r.key,
            value: r.value,
            timestamp: r.timestamp,
            partition,
            ...(r.headers ? { headers: r.headers } : {}),
          })),
        })
        producers.set(id, { epoch: producer.epoch, seq: producer.seq })
        return { duplicate: false }
      })
      queue = run.catch(() => undefined)
      return run
    },
  }
}

/** The Durable Streams producer rules (PROTOCOL.md §5.2.1). */
function check(
  state: { epoch: number; seq: number } | undefined,
  p: ProducerCoordinates,
): 'append' | 'duplicate' {
  if (!state) {
    if (p.seq !== 0) throw new OutOfOrderSequenceError(`Expected sequence 0, got ${p.seq}`)
    return 'append'
  }
  if (p.epoch < state.epoch)
    throw new ProducerFencedError(`Producer epoch ${p.epoch} is fenced by epoch ${state.epoch}`)
  if (p.epoch > state.epoch) {
    if (p.seq !== 0) throw new InvalidArgumentError('A new epoch must start at sequence 0')
    return 'append'
  }
  if (p.seq <= state.seq) return 'duplicate'
  if (p.seq > state.seq + 1)
    throw new OutOfOrderSequenceError(`Expected sequence ${state.seq + 1}, got ${p.seq}`)
  return 'append'
}
