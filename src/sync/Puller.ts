import { DualityError, OffsetOutOfRangeError } from '../log/errors.ts'
import type { Log } from '../log/Log.ts'
import { backoffDelay, sleep } from './backoff.ts'
import { CONFIRMED, ORIGIN_HEADER, outboxTopic, parseOrigin, readSyncState } from './syncState.ts'
import type { SyncTransport } from './SyncTransport.ts'

export interface PullerEvents {
  /** A read succeeded; `upToDate` once it reached the server's end. */
  pulled(info: { partition: number; upToDate: boolean; serverEnd: number | null }): void
  retrying(error: unknown): void
  /** The server no longer has what this replica needs next (410): sync must re-bootstrap. */
  gone(error: OffsetOutOfRangeError): void
}

/**
 * Keeps one replica partition a copy of the server's (Kafka's follower fetcher): reads from where
 * the replica ends, appends the server's records with the server's offsets, then tails. When
 * records this device pushed come back (their origin header names our producer), the outbox is
 * confirmed up to them in the same transaction: views then stop showing them as pending, and
 * never show them twice.
 */
export class Puller {
  constructor(
    private readonly log: Log,
    private readonly transport: SyncTransport,
    private readonly topic: string,
    private readonly partition: number,
    private readonly events: PullerEvents,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    let attempt = 0
    let live = false
    // An empty replica starts at the server's log start (retention may have moved it); then
    // past a gap at the end (server-side compaction) the next read starts later than our end.
    const high = (await this.log.offsets(this.topic))[this.partition]!.high
    let position: number | 'start' = high === 0 ? 'start' : high
    while (!signal.aborted) {
      try {
        const chunk = await this.transport.read(this.topic, this.partition, position, {
          live,
          signal,
        })
        if (signal.aborted) return
        attempt = 0
        if (chunk.records.length > 0) await this.apply(chunk.records)
        else await this.passRefused()
        position = Math.max(position === 'start' ? 0 : position, chunk.nextOffset)
        live = chunk.upToDate
        this.events.pulled({
          partition: this.partition,
          upToDate: chunk.upToDate,
          serverEnd: chunk.upToDate ? chunk.nextOffset : null,
        })
      } catch (error) {
        if (signal.aborted) return
        if (error instanceof OffsetOutOfRangeError) {
          this.events.gone(error)
          return
        }
        if (error instanceof DualityError && error.code === 'INVALID_OFFSET') throw error
        live = false
        this.events.retrying(error)
        await sleep(backoffDelay(attempt++), signal)
      }
    }
  }

  /**
   * Records the server refused never come back, so no pulled record confirms past them: with
   * nothing pulled, the confirmed mark steps over refusals at its head itself. Otherwise a device
   * whose sends are all refused (a 403 for good) would remember every refused offset forever.
   */
  private async passRefused(): Promise<void> {
    const state = await readSyncState(this.log, this.topic, this.partition)
    const rejected = new Set(state.push?.rejected ?? [])
    let confirmed = state.confirmed
    while (rejected.has(confirmed)) confirmed++
    if (confirmed === state.confirmed) return
    await this.log.admin().setOffsets({
      groupId: CONFIRMED,
      topic: outboxTopic(this.topic),
      partitions: [{ partition: this.partition, offset: confirmed, metadata: null }],
    })
  }

  private async apply(records: Parameters<Log['appendAsFollower']>[2]): Promise<void> {
    const state = await readSyncState(this.log, this.topic, this.partition)
    let confirmed = state.confirmed
    const producerId = state.push?.producerId
    if (producerId) {
      for (const r of records) {
        const origin = parseOrigin(r.headers?.[ORIGIN_HEADER])
        if (origin?.producerId === producerId && origin.offset >= confirmed) {
          confirmed = origin.offset + 1
        }
      }
      const rejected = new Set(state.push?.rejected ?? [])
      while (rejected.has(confirmed)) confirmed++
    }
    await this.log.appendAsFollower(
      this.topic,
      this.partition,
      records,
      confirmed === state.confirmed
        ? undefined
        : {
            groupId: CONFIRMED,
            offsets: [
              { topic: outboxTopic(this.topic), partition: this.partition, offset: confirmed },
            ],
          },
    )
  }
}
