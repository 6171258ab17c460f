import {
  ConcurrencyError,
  DualityError,
  ForbiddenError,
  InvalidRecordError,
  OutOfOrderSequenceError,
  ProducerFencedError,
  RecordTooLargeError,
  SchemaValidationError,
  SchemaVersionError,
} from '../log/errors.ts'
import type { Log } from '../log/Log.ts'
import { backoffDelay, sleep } from './backoff.ts'
import { recordRejections, type Rejection, type RefusedRecord } from './rejections.ts'
import {
  ORIGIN_HEADER,
  outboxTopic,
  readSyncState,
  writePushState,
  type PushState,
} from './syncState.ts'
import type { SyncTransport } from './SyncTransport.ts'

export interface PusherEvents {
  /**
   * The server refused records for good (403, 400, 409 on an expectation, 413): they left the
   * outbox and are kept as rejections (`rejections.ts`), in outbox order.
   */
  rejected(event: { rejections: Rejection[]; error: DualityError }): void
  /** A request failed and will be retried (network down, 5xx, 429, 401...). */
  retrying(error: unknown): void
  /** A request succeeded. */
  succeeded(): void
}

/**
 * Pushes one outbox partition to the server, in order, as an idempotent producer whose id, epoch
 * and sequence are persisted: before a batch is sent, its sequence number and extent are written
 * down, so after a crash, a reload or a lost response the very same batch goes again and the
 * server drops it as a duplicate. One pusher per partition runs at a time (sync runs under one
 * leader lock across tabs).
 */
export class Pusher {
  private maxBatch: number

  constructor(
    private readonly log: Log,
    private readonly transport: SyncTransport,
    private readonly topic: string,
    private readonly partition: number,
    private readonly events: PusherEvents,
    private readonly options: { maxBatch?: number; newProducerId?: () => string } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let attempt = 0
    const outbox = outboxTopic(this.topic)
    while (!signal.aborted) {
      const state = await readSyncState(this.log, this.topic, this.partition)
      let push: PushState = state.push ?? {
        producerId: this.options.newProducerId?.() ?? crypto.randomUUID(),
        epoch: 0,
        seq: 0,
        inflight: null,
        rejected: [],
      }
      // Refusals the confirmed position has passed need no remembering.
      push = { ...push, rejected: push.rejected.filter((o) => o >= state.confirmed) }
      if (!push.inflight) {
        const high = (await this.log.offsets(outbox))[this.partition]!.high
        if (state.pushed >= high) {
          await this.appended(outbox, signal)
          continue
        }
        const end = Math.min(state.pushed + this.maxBatch, high)
        push = { ...push, inflight: { seq: push.seq, end } }
        await writePushState(this.log, this.topic, this.partition, state.pushed, push)
      }
      const { seq, end } = push.inflight!
      const waiting = await this.readOutbox(state.pushed, end)
      const origin = (r: RefusedRecord) => `${push.producerId}:${r.offset}`
      try {
        await this.transport.append(
          this.topic,
          this.partition,
          waiting.map((r) => ({
            key: r.key,
            value: r.value,
            timestamp: r.timestamp,
            // Lets the puller tell this batch from others when it comes back from the server.
            headers: { ...(r.headers ?? {}), [ORIGIN_HEADER]: origin(r) },
          })),
          { id: push.producerId, epoch: push.epoch, seq },
          signal,
        )
        attempt = 0
        this.maxBatch = this.options.maxBatch ?? 500
        await writePushState(this.log, this.topic, this.partition, end, {
          ...push,
          seq: seq + 1,
          inflight: null,
        })
        this.events.succeeded()
      } catch (error) {
        if (signal.aborted) return
        if (
          error instanceof InvalidRecordError ||
          error instanceof RecordTooLargeError ||
          error instanceof ConcurrencyError ||
          // The server's schema for a typed topic refused a record, or its version.
          error instanceof SchemaValidationError ||
          error instanceof SchemaVersionError
        ) {
          await this.refused(state.pushed, end, push, error, waiting)
          continue
        }
        if (error instanceof ForbiddenError) {
          // Not one record's fault: the caller may not append here. Asking again gets the same
          // answer, so the whole batch is refused at once (no narrowing down).
          await this.reject(end, push, waiting, error)
          continue
        }
        if (error instanceof ProducerFencedError || error instanceof OutOfOrderSequenceError) {
          // The server's producer state is not ours (it was reset, or this id was copied): start
          // a new epoch and send the batch again under it, after a pause, so that two holders
          // of one id cannot fence each other in a tight loop.
          await writePushState(this.log, this.topic, this.partition, state.pushed, {
            ...push,
            epoch: push.epoch + 1,
            seq: 0,
            inflight: { seq: 0, end },
          })
          this.events.retrying(error)
          await sleep(backoffDelay(attempt++), signal)
          continue
        }
        this.events.retrying(error)
        await sleep(backoffDelay(attempt++), signal)
      }
    }
  }

  /**
   * A refused batch: narrow it down to the record the server refuses, which then leaves the
   * outbox as a rejection; the records before it go on. The sequence number is reused: the server
   * accepted nothing.
   */
  private async refused(
    from: number,
    end: number,
    push: PushState,
    error: DualityError,
    outbox: RefusedRecord[],
  ) {
    // A schema refusal names the record (its index in the batch): no need to search for it.
    const at = error instanceof SchemaValidationError ? error.index : -1
    const named = at >= 0 && at < outbox.length ? outbox[at] : undefined
    if (named && outbox.length > 1) {
      if (at === 0) return this.reject(named.offset + 1, push, [named], error)
      // The records before it passed the check: they go alone, and it leads the next batch.
      this.maxBatch = at
      await writePushState(this.log, this.topic, this.partition, from, {
        ...push,
        inflight: { seq: push.inflight!.seq, end: named.offset },
      })
      return
    }
    if (end - from > 1) {
      this.maxBatch = Math.max(1, Math.floor((end - from) / 2))
      await writePushState(this.log, this.topic, this.partition, from, {
        ...push,
        inflight: { seq: push.inflight!.seq, end: from + this.maxBatch },
      })
      return
    }
    await this.reject(end, push, outbox, error)
  }

  /**
   * The in-flight batch leaves the outbox: its records are written down as rejections first, then
   * the pushed mark moves past them (a crash in between refuses them again, under the same keys).
   */
  private async reject(end: number, push: PushState, outbox: RefusedRecord[], error: DualityError) {
    const rejections = await recordRejections(this.log, this.topic, this.partition, outbox, error)
    await writePushState(this.log, this.topic, this.partition, end, {
      ...push,
      seq: push.inflight!.seq,
      inflight: null,
      rejected: [...push.rejected, ...outbox.map((r) => r.offset)],
    })
    this.events.rejected({ rejections, error })
  }

  /** The outbox records in [from, end), as they wait there (headers without the origin). */
  private async readOutbox(from: number, end: number): Promise<RefusedRecord[]> {
    const out: RefusedRecord[] = []
    for (let offset = from; offset < end;) {
      const chunk = await this.log.read({
        topic: outboxTopic(this.topic),
        partition: this.partition,
        offset,
        maxRecords: end - offset,
      })
      for (const r of chunk.records) {
        if (r.offset >= end) break
        out.push({
          offset: r.offset,
          key: r.key as string | null,
          value: r.value as string | null,
          timestamp: r.timestamp,
          headers: r.headers ?? null,
        })
      }
      if (chunk.nextOffset <= offset) break
      offset = chunk.nextOffset
    }
    return out
  }

  /**
   * Waits until the outbox partition grows (a local send), `signal` aborts, or a second passes: a
   * tab killed right after its send committed never announces it, so the pusher looks anyway.
   */
  private appended(outbox: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        off()
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, 1000)
      const off = this.log.onAppend((events) => {
        if (events.some((e) => e.topic === outbox && e.partition === this.partition)) done()
      })
      signal.addEventListener('abort', done)
      if (signal.aborted) done()
    })
  }
}
