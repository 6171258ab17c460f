import { randomUUID } from 'node:crypto'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { MsgHdrs } from '@nats-io/transport-node'
import { isJsonType } from '../../../protocol/index.ts'
import { maxForkCutBytes } from '../../engine/forkReads.ts'
import { jsStreamName, recordSubject, type Loaded, type StreamMeta } from './jetStreamMeta.ts'
import type { ProducerHeaders } from '../../engine/outcomes.ts'
import { Conflict } from './retrying.ts'
import type { StoredRecord } from '../../engine/streamRows.ts'

const startHeader = 'Duality-Batch-Start'
const timeHeader = 'Duality-Timestamp'
/** On an append's first record: who wrote it, so a stalled append can be adopted with it. */
const producerHeader = 'Duality-Producer'
/** A marker that fences off a writer, and is deleted right after (JetStreamEngine.adoptStalled). */
const fenceHeader = 'Duality-Fence'
/** On an append's first record: how many records it has, so an append cut short is known. */
const sizeHeader = 'Duality-Batch-Size'
/** JetStream's error code for a failed Nats-Expected-Last-Sequence. */
const wrongLastSequence = 10071
/** ... and for a failed Nats-Expected-Last-Msg-Id. */
const wrongLastMsgId = 10070
/** JetStream's error code for a stream that is not (or no longer) there. */
const streamNotFound = 10059
/** JetStream's error code for a message that is not (or no longer) there. */
const noMessageFound = 10037
/** Ranges up to this long are read with single gets in parallel, longer ones by a consumer. */
const readWindow = 64
/** The most records one consumer read fetches (a read returns at most maxReadBytes anyway). */
const maxRangeMessages = 20_000

/**
 * The JetStream sequence of an offset: offset + 1, so the stream's sequence is the dense offset.
 * A fork's own records start at its fork offset and nats-server 2.9 cannot start a stream at a
 * chosen sequence (first_seq is 2.10+), so a fork's sequences count from its fork offset.
 */
export const sequenceOf = (meta: StreamMeta, offset: number): number =>
  offset - (meta.forkOffset ?? 0) + 1

export type LoggedRecord = StoredRecord & {
  producer: ProducerHeaders | undefined
  /** On an append's first record: its number of records (absent on records written before). */
  batchSize: number | undefined
  /** A fence left by an adopter that died before deleting it (JetStreamEngine.adoptStalled). */
  fence: boolean
}

/** The records side of the JetStream backend: one JetStream stream per Durable Streams stream. */
export class JetStreamLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly headers: () => MsgHdrs,
    private readonly replicas: number,
    /** The metadata of a fork's source, by path. */
    private readonly load: (path: string) => Promise<Loaded | undefined>,
  ) {}

  async add(id: number): Promise<void> {
    await this.jsm.streams.add({
      name: jsStreamName(id),
      subjects: [recordSubject(id)],
      num_replicas: this.replicas,
    })
  }

  async remove(id: number): Promise<void> {
    await this.jsm.streams.delete(jsStreamName(id)).catch(() => false)
  }

  /** Retention: removes every record below `offset`. */
  async purgeBelow(meta: StreamMeta, offset: number): Promise<void> {
    await this.jsm.streams.purge(jsStreamName(meta.id), { seq: sequenceOf(meta, offset) })
  }

  /** Compaction: removes the records at these offsets (a record already gone is no error). */
  async deleteRecords(meta: StreamMeta, offsets: readonly number[]): Promise<void> {
    for (let i = 0; i < offsets.length; i += readWindow) {
      await Promise.all(
        offsets.slice(i, i + readWindow).map((offset) =>
          this.jsm.streams
            .deleteMessage(jsStreamName(meta.id), sequenceOf(meta, offset), false)
            .catch((error: unknown) => {
              if (apiErrorCode(error) !== noMessageFound) throw error
            }),
        ),
      )
    }
  }

  /** The offset after the last record JetStream holds, committed to the metadata or not. */
  /**
   * Takes the offset after `tail` with an empty marker record, if `tail` is still the stream's
   * end; false when another record got there first. A writer still publishing an append that
   * began below `tail` can then never complete it (its next record expects the old end), so it
   * can never commit the part below.
   */
  async fence(meta: StreamMeta, tail: number): Promise<boolean> {
    const h = this.headers()
    h.set(fenceHeader, '1')
    try {
      await this.js.publish(recordSubject(meta.id), new Uint8Array(), {
        headers: h,
        expect: { lastSequence: sequenceOf(meta, tail) - 1, streamName: jsStreamName(meta.id) },
      })
      return true
    } catch (error) {
      if (apiErrorCode(error) === wrongLastSequence) return false
      throw error
    }
  }

  /** The offset of the stream's first stored record (its tail when it holds none). */
  async firstOffset(meta: StreamMeta): Promise<number> {
    const info = await this.jsm.streams.info(jsStreamName(meta.id))
    return info.state.first_seq - 1 + (meta.forkOffset ?? 0)
  }

  async tail(meta: StreamMeta): Promise<number> {
    const info = await this.jsm.streams.info(jsStreamName(meta.id))
    return info.state.last_seq + (meta.forkOffset ?? 0)
  }

  /**
   * Publishes records at their offsets, pipelined. Nats-Expected-Last-Sequence makes a concurrent
   * writer's first record fail (a Conflict: it starts over from the metadata); each later record
   * also expects its predecessor's Nats-Msg-Id, so no other writer's record can slip in between
   * while they are in flight. A producer's ids are stable for one position (its retry racing the
   * first attempt is a no-op there too), and include the append's first offset: once an attempt
   * cut short was deleted and the tail moved on, the retry is not deduplicated against it.
   */
  async publish(
    meta: StreamMeta,
    records: readonly StoredRecord[],
    producer?: ProducerHeaders,
  ): Promise<void> {
    const at = records[0]?.offset ?? meta.nextOffset
    const msgId = producer
      ? `${meta.id}:${producer.id}:${producer.epoch}:${producer.seq}@${at}`
      : `${meta.id}:${randomUUID()}`
    const results = await Promise.allSettled(
      records.map((record, i) => this.publishOne(meta, record, i, records.length, msgId, producer)),
    )
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  private async publishOne(
    meta: StreamMeta,
    record: StoredRecord,
    i: number,
    size: number,
    msgId: string,
    producer: ProducerHeaders | undefined,
  ): Promise<void> {
    const h = this.headers()
    h.set(timeHeader, String(record.timestamp))
    if (record.batchStart) h.set(startHeader, '1')
    if (i === 0) h.set(sizeHeader, String(size))
    if (producer && i === 0) {
      h.set(producerHeader, JSON.stringify([producer.id, producer.epoch, producer.seq]))
    }
    try {
      const ack = await this.js.publish(recordSubject(meta.id), record.data, {
        headers: h,
        expect: {
          lastSequence: sequenceOf(meta, record.offset) - 1,
          streamName: jsStreamName(meta.id),
          ...(i > 0 && { lastMsgID: `${msgId}:${i - 1}` }),
        },
        msgID: `${msgId}:${i}`,
      })
      if (ack.duplicate) throw new Conflict('a retry of an append another server is writing')
    } catch (error) {
      if (apiErrorCode(error) === wrongLastSequence || apiErrorCode(error) === wrongLastMsgId) {
        throw new Conflict('another server appended first', { cause: error })
      }
      throw error
    }
  }

  /**
   * Every one of the stream's own records in [from, to), page by page: one read stops at
   * maxRangeMessages, and the cleaner must see the whole partition before it moves its start.
   */
  async readAllOwn(meta: StreamMeta, from: number, to: number): Promise<LoggedRecord[]> {
    const all: LoggedRecord[] = []
    for (let at = from; at < to;) {
      const page = await this.readOwn(meta, at, to, Infinity)
      const last = page[page.length - 1]
      if (!last) break // the rest of the range was compacted away
      all.push(...page)
      at = last.offset + 1
    }
    return all
  }

  /** The stream's own records in [from, to), stopping once their data reaches `maxBytes`. */
  readOwn(meta: StreamMeta, from: number, to: number, maxBytes: number): Promise<LoggedRecord[]> {
    return to - from > readWindow
      ? this.readRange(meta, from, to, maxBytes)
      : this.readSingles(meta, from, to, maxBytes)
  }

  /** A short range (a live tail's next records): single gets in parallel, one round trip. */
  private async readSingles(
    meta: StreamMeta,
    from: number,
    to: number,
    maxBytes: number,
  ): Promise<LoggedRecord[]> {
    const records: LoggedRecord[] = []
    let bytes = 0
    const offsets = Array.from({ length: to - from }, (_, i) => from + i)
    const msgs = await Promise.all(
      offsets.map((offset) =>
        this.jsm.streams.getMessage(jsStreamName(meta.id), { seq: sequenceOf(meta, offset) }),
      ),
    )
    for (const [i, msg] of msgs.entries()) {
      if (records.length > 0 && bytes >= maxBytes) break
      // A missing message is a record compaction removed: reads skip it, as Kafka's do.
      if (msg) bytes += this.push(records, offsets[i]!, msg.data, msg.header)
    }
    return records
  }

  /**
   * A long range (catch-up, cleaning): an ordered consumer from the first offset, which streams
   * the records in bulk and steps over compaction's gaps by itself (nats-server 2.9 has no
   * batched get). It stops at the range's end, at the stream's end (`pending` 0), or at
   * `maxBytes`, whichever comes first, and is deleted after.
   */
  private async readRange(
    meta: StreamMeta,
    from: number,
    to: number,
    maxBytes: number,
  ): Promise<LoggedRecord[]> {
    const records: LoggedRecord[] = []
    const stream = jsStreamName(meta.id)
    const last = sequenceOf(meta, to - 1)
    const consumer = await this.js.consumers.get(stream, {
      opt_start_seq: sequenceOf(meta, from),
    })
    try {
      // Nothing from the first offset on (compaction emptied the stream's end): a fetch would
      // wait out `expires` for records that are not coming.
      if ((await consumer.info(true)).num_pending === 0) return records
      let bytes = 0
      const messages = await consumer.fetch({
        max_messages: Math.min(to - from, maxRangeMessages),
        expires: 2_000,
      })
      for await (const m of messages) {
        if (m.seq > last) break
        bytes += this.push(records, m.seq - 1 + (meta.forkOffset ?? 0), m.data, m.headers)
        if (m.seq === last || m.info.pending === 0 || bytes >= maxBytes) break
      }
    } finally {
      await consumer.delete().catch(() => false)
    }
    return records
  }

  private push(
    records: LoggedRecord[],
    offset: number,
    data: Uint8Array,
    header: MsgHdrs | undefined,
  ): number {
    const producer = header?.get(producerHeader)
    const [id, epoch, seq] = producer ? (JSON.parse(producer) as [string, number, number]) : []
    const size = header?.get(sizeHeader)
    records.push({
      batchSize: size ? Number(size) : undefined,
      fence: header?.get(fenceHeader) === '1',
      offset,
      data,
      batchStart: header?.get(startHeader) === '1',
      timestamp: Number(header?.get(timeHeader)),
      key: null,
      producer: id === undefined ? undefined : { id, epoch: epoch!, seq: seq! },
    })
    return data.length
  }

  /** What a stream shows in [from, to): a fork shows its source below its fork offset. */
  async readVisible(
    meta: StreamMeta,
    from: number,
    to: number,
    maxBytes: number,
  ): Promise<{ records: StoredRecord[]; truncated: boolean }> {
    const records: StoredRecord[] = []
    let bytes = 0
    const collect = async (m: StreamMeta, lo: number, hi: number): Promise<boolean> => {
      if (m.sourcePath !== null && m.forkOffset !== null && lo < m.forkOffset) {
        const source = await this.load(m.sourcePath)
        if (source && source.meta.id === m.forkedFrom) {
          if (!(await collect(source.meta, lo, Math.min(hi, m.forkOffset)))) return false
        }
      }
      const own = Math.max(lo, m.forkOffset ?? 0)
      if (own >= hi) return true
      if (bytes >= maxBytes) return false
      for (const logged of await this.readOwn(m, own, hi, maxBytes - bytes)) {
        records.push(storedOf(logged))
        bytes += logged.data.length
      }
      return bytes < maxBytes && (records[records.length - 1]?.offset ?? hi - 1) >= hi - 1
    }
    const complete = await collect(meta, from, to)
    return { records, truncated: !complete }
  }

  /** A fork point inside an append (Stream-Fork-Sub-Offset), by forkReads.ts's rules; a string is a 400. */
  async forkPrefix(
    source: StreamMeta,
    offset: number,
    sub: number,
    now: number,
  ): Promise<{ forkOffset: number; prefix: StoredRecord | undefined } | string> {
    const to = Math.min(source.nextOffset, offset + sub + 1)
    const { records } = await this.readVisible(source, offset, to, maxForkCutBytes)
    const first = records[0]
    if (!first) return 'Stream-Fork-Sub-Offset: no data after the fork offset'
    if (isJsonType(source.contentType)) {
      let count = 1
      while (count < records.length && !records[count]!.batchStart) count++
      if (sub > count) return `Stream-Fork-Sub-Offset ${sub} exceeds the append's ${count} messages`
      return { forkOffset: first.offset + sub, prefix: undefined }
    }
    if (sub > first.data.length) {
      return `Stream-Fork-Sub-Offset ${sub} exceeds the append's ${first.data.length} bytes`
    }
    const prefix = { ...first, data: first.data.slice(0, sub), timestamp: now }
    return { forkOffset: first.offset, prefix: { ...prefix, batchStart: true, key: null } }
  }
}

/** A record as the engine knows it, without what only adoption reads from its headers. */
export function storedOf(logged: LoggedRecord): StoredRecord {
  const { producer: _producer, batchSize: _size, fence: _fence, ...record } = logged
  return record
}

/**
 * `fn`'s result, or undefined when the stream was deleted under it (by another server, after
 * this one loaded its metadata, as `load` shows): a 404 or "nothing cleaned" then, not the
 * JetStream error as a 500.
 */
export async function unlessDeleted<T>(
  meta: StreamMeta,
  load: (path: string) => Promise<Loaded | undefined>,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn()
  } catch (error) {
    if (!streamMissing(error) || (await load(meta.path))?.meta.id === meta.id) throw error
    return undefined
  }
}

/**
 * Whether a JetStream request failed because the stream is not there (deleted by another server
 * after this one loaded its metadata): a lookup answers StreamNotFound, a publish finds no
 * responder on the stream's subject. Callers check the metadata before believing it.
 */
function streamMissing(error: unknown): boolean {
  const code = apiErrorCode(error)
  // nats.js reports a publish that no stream answered as "JetStream not enabled".
  const name = error instanceof Error ? error.name : undefined
  return code === streamNotFound || name === 'NoResponders' || name === 'JetStreamNotEnabled'
}

/** The JetStream API error code of a failed request (JetStreamApiError's `code`), if any. */
function apiErrorCode(error: unknown): unknown {
  return error instanceof Error && 'code' in error ? error.code : undefined
}

/** The refusal (413) of records one of which is over `limit` bytes, if any is. */
export function oversized(
  records: readonly StoredRecord[],
  limit: number,
): { kind: 'badRequest'; message: string; tooLarge: true } | undefined {
  if (!records.some((r) => r.data.length > limit)) return undefined
  return {
    kind: 'badRequest',
    message: `A record over ${limit} bytes (NATS max_payload) cannot be stored`,
    tooLarge: true,
  }
}
