// Types only here: the NATS client is loaded when a server connects, so that duality/server works
// without the optional @nats-io packages installed.
import { importPeer } from '../../missingPeer.ts'
import type { NatsConnection } from '@nats-io/transport-node'
import { createJetStream } from './jetStreamCreate.ts'
import { JetStreamLog, oversized, unlessDeleted, type LoggedRecord } from './JetStreamLog.ts'
import { noticeSubject, rowOf, type Loaded, type StreamMeta } from './jetStreamMeta.ts'
import { JetStreamMetaStore } from './JetStreamMetaStore.ts'
import { JetStreamTopics } from './JetStreamTopics.ts'
import { KeyedQueue } from './KeyedQueue.ts'
import type { ReadFrom } from '../../../protocol/index.ts'
import type {
  AppendOutcome,
  AppendRequest,
  CreateOutcome,
  CreateRequest,
  DeleteOutcome,
  ReadOutcome,
  StreamLookup,
} from '../../engine/outcomes.ts'
import { checkProducer } from '../../engine/producerCheck.ts'
import { Conflict, retrying } from './retrying.ts'
import type { Engine } from '../../engine/Engine.ts'
import { atOrBeyondTail, expired, sameType } from '../../engine/streamRules.ts'
import { toRecords } from '../../engine/toRecords.ts'
import type { PartitionSettings } from '../../topics/partitionSettings.ts'
import { Waiters, type WaitResult } from '../../engine/Waiters.ts'

export interface JetStreamEngineOptions {
  /** NATS server URL(s), e.g. nats://127.0.0.1:4222. */
  servers: string | string[]
  /** Replicas of every stream and of the metadata bucket: 3 in production. Default 1. */
  replicas?: number
  /** The KV bucket of stream metadata. Default duality_streams. */
  bucket?: string
  now?: () => number
  /** The most record bytes one read returns (at least one record is always returned). Default 1 MiB. */
  maxReadBytes?: number
  /**
   * How long records published beyond a stream's committed tail may stay uncommitted before another
   * server adopts them (their writer died between publishing and committing). Default 5 s.
   */
  adoptAfterMs?: number
}

/** How long a topic found alive is taken to be, before its entry is read again. */
const topicCheckMs = 5_000
/** Bytes of a record's NATS message taken by its headers (ids, offsets, timestamps). */
const headerAllowance = 4096
/** How many revision conflicts an append's commit merges before it fails. */
const maxCommitAttempts = 100
/**
 * The Durable Streams semantics over NATS JetStream, for stateless servers that scale out. Each
 * stream is one JetStream stream whose sequence is offset + 1, so offsets stay dense; an append
 * publishes its records with Nats-Expected-Last-Sequence, which elects exactly one writer per
 * offset across all servers, then commits the new tail and producer state to the stream's KV
 * entry, checked by revision. Readers see committed offsets only.
 */
export class JetStreamEngine implements Engine {
  readonly now: () => number
  readonly maxReadBytes: number
  private readonly adoptAfterMs: number
  private readonly waiters = new Waiters()
  private readonly appends = new KeyedQueue()
  readonly topics: JetStreamTopics
  /** Streams seen with uncommitted records, by `id@committed tail`, and since when (wall clock). */
  private readonly stalled = new Map<string, number>()
  /** Topic ids found alive (ready, this incarnation), until when: see `served`. */
  private readonly liveTopics = new Map<string, number>()

  private constructor(
    private readonly nc: NatsConnection,
    private readonly store: JetStreamMetaStore,
    private readonly log: JetStreamLog,
    options: JetStreamEngineOptions,
  ) {
    this.now = options.now ?? Date.now
    this.maxReadBytes = options.maxReadBytes ?? 1024 * 1024
    this.adoptAfterMs = options.adoptAfterMs ?? 5_000
    this.topics = new JetStreamTopics({
      store,
      log,
      createStream: (req) => this.createStream(req),
      delete: (path, onlyId) => this.delete(path, onlyId),
      notify: (id) => this.notify(id),
      now: () => this.now(),
    })
    // Appends, closes and deletes made by any server wake this server's live readers.
    nc.subscribe(noticeSubject(0).replace(/0$/, '*'), {
      callback: (_error, msg) => this.waiters.wake(Number(msg.subject.split('.').pop())),
    })
  }

  static async connect(options: JetStreamEngineOptions): Promise<JetStreamEngine> {
    const [{ connect, headers }, { jetstream, jetstreamManager }, { Kvm }] = await importPeer(
      () =>
        Promise.all([
          import('@nats-io/transport-node'),
          import('@nats-io/jetstream'),
          import('@nats-io/kv'),
        ]),
      ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv'],
      'JetStreamEngine (duality/server/jetstream, --nats)',
    )
    const nc = await connect({ servers: options.servers })
    const replicas = options.replicas ?? 1
    const kv = await createBucket(() =>
      new Kvm(nc).create(options.bucket ?? 'duality_streams', { history: 1, replicas }),
    )
    const store = new JetStreamMetaStore(kv)
    const jsm = await jetstreamManager(nc)
    const log = new JetStreamLog(jetstream(nc), jsm, headers, replicas, (path) => store.load(path))
    return new JetStreamEngine(nc, store, log, options)
  }

  private notify(id: number): void {
    this.waiters.wake(id)
    this.nc.publish(noticeSubject(id))
  }

  /** The stream at `path` unless it expired; an expired stream with forks becomes soft-deleted. */
  private async live(path: string): Promise<Loaded | undefined> {
    const found = await this.store.load(path)
    if (!found || !expired(found.meta, this.now())) return found
    await this.remove(found)
    return found.meta.refCount > 0
      ? { meta: { ...found.meta, softDeleted: true }, rev: found.rev }
      : undefined
  }

  /**
   * `live`, except that a topic partition whose topic is gone or is another incarnation (left
   * behind by a server that died deleting it, or by a creation replaced with fewer partitions)
   * is not there for reads and appends, as in Kafka. Deleting still sees it.
   */
  private async served(path: string): Promise<Loaded | undefined> {
    const found = await this.live(path)
    if (!found || found.meta.topic === null) return found
    const { topic, id } = JSON.parse(found.meta.topic) as PartitionSettings
    if (id === undefined || this.liveTopics.get(id)! > Date.now()) return found
    const entry = (await this.store.loadTopic(topic))?.entry
    if (!entry?.ready || entry.id !== id) return undefined
    if (this.liveTopics.size > 10_000) this.liveTopics.clear()
    this.liveTopics.set(id, Date.now() + topicCheckMs)
    return found
  }

  /** Deletes a stream, or soft-deletes it while forks read from it; cascades to its source. */
  private async remove(found: Loaded): Promise<void> {
    const { meta, rev } = found
    if (meta.refCount > 0) {
      if (!meta.softDeleted) await this.store.save({ ...meta, softDeleted: true }, rev)
      return
    }
    await this.store.delete(found)
    await this.log.remove(meta.id)
    this.notify(meta.id)
    if (meta.sourcePath !== null) await this.release(meta.sourcePath, meta.forkedFrom)
  }

  /** One fork fewer reads from the stream at `path`; a soft-deleted source with none left goes. */
  private release(path: string, id: number | null): Promise<void> {
    return retrying(async () => {
      const source = await this.store.load(path)
      if (!source || source.meta.id !== id) return
      const meta = { ...source.meta, refCount: Math.max(0, source.meta.refCount - 1) }
      if (meta.refCount === 0 && meta.softDeleted) await this.remove({ meta, rev: source.rev })
      else await this.store.save(meta, source.rev)
    })
  }

  createStream(req: CreateRequest): Promise<CreateOutcome> {
    const ctx = {
      store: this.store,
      log: this.log,
      now: this.now,
      live: (path: string) => this.live(path),
      maxRecordBytes: this.maxRecordBytes(),
    }
    return retrying(() => createJetStream(ctx, req))
  }

  async head(path: string): Promise<StreamLookup> {
    const found = await retrying(() => this.served(path))
    if (!found) return { kind: 'notFound' }
    return found.meta.softDeleted ? { kind: 'gone' } : { kind: 'ok', stream: rowOf(found.meta) }
  }

  async append(req: AppendRequest): Promise<AppendOutcome> {
    const outcome = await this.appends.run(req.path, () => retrying(() => this.appendNow(req)))
    if (outcome.kind === 'appended' || outcome.kind === 'closed') this.notify(outcome.stream.id)
    return outcome
  }

  /** One attempt; a Conflict (another server wrote first) makes `append` start over. */
  private async appendNow(req: AppendRequest): Promise<AppendOutcome> {
    const found = await this.served(req.path)
    if (!found) return { kind: 'notFound' }
    if (found.meta.softDeleted) return { kind: 'gone' }
    const meta: StreamMeta = { ...found.meta }
    if (meta.ttlSeconds !== null) meta.lastAccessedAt = this.now()
    const p = req.producer
    const closeOnly = req.body.length === 0 && req.close
    if (meta.closed) {
      const by = meta.closedBy
      if (p && by && by.producerId === p.id && by.epoch === p.epoch && by.seq === p.seq) {
        return { kind: 'duplicate', stream: rowOf(meta), epoch: p.epoch, lastSeq: p.seq }
      }
      // Closing a closed stream again is idempotent; appending to it is not.
      if (closeOnly && !p) return { kind: 'closed', stream: rowOf(meta), producer: undefined }
      return { kind: 'streamClosed', stream: rowOf(meta) }
    }
    if (!closeOnly && !sameType(req.contentType ?? '', meta.contentType)) {
      return { kind: 'contentTypeMismatch', expected: meta.contentType }
    }
    if (p) {
      const verdict = checkProducer(meta.producers[p.id], p.epoch, p.seq, this.now())
      if (verdict.kind === 'duplicate') {
        return { kind: 'duplicate', stream: rowOf(meta), epoch: p.epoch, lastSeq: verdict.lastSeq }
      }
      if (verdict.kind !== 'accept') return verdict
      meta.producers = { ...meta.producers, [p.id]: verdict.state }
    }
    if (req.streamSeq !== undefined) {
      if (meta.lastStreamSeq !== null && req.streamSeq <= meta.lastStreamSeq) {
        return { kind: 'streamSeqConflict', last: meta.lastStreamSeq }
      }
      meta.lastStreamSeq = req.streamSeq
    }
    if (!closeOnly) {
      const records = toRecords(meta, req.body, false, this.now())
      if (!records.ok) return { kind: 'badRequest', ...records }
      const tooLarge = oversized(records.records, this.maxRecordBytes())
      if (tooLarge) return tooLarge
      try {
        const published = await this.unlessDeleted(meta, async () => {
          await this.log.publish(meta, records.records, p)
          return true
        })
        if (!published) return { kind: 'notFound' }
      } catch (error) {
        if (error instanceof Conflict) await this.adoptStalled(found)
        throw error
      }
      meta.nextOffset += records.records.length
    }
    if (req.close) {
      meta.closed = true
      meta.closedBy = p ? { producerId: p.id, epoch: p.epoch, seq: p.seq } : null
    }
    const committed = await this.commit(meta, found)
    return { kind: closeOnly ? 'closed' : 'appended', stream: rowOf(committed), producer: p }
  }

  /**
   * Commits an append's new tail and producer state. Its records are already in JetStream, so a
   * revision conflict (a reader's TTL touch, say) is merged rather than retried: the records
   * settled the offsets, and no other writer can have moved the tail past ours.
   */
  private async commit(meta: StreamMeta, read: Loaded): Promise<StreamMeta> {
    let rev = read.rev
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.save(meta, rev)
        return meta
      } catch (error) {
        // Another writer's revision is merged, and a write whose answer timed out is looked
        // for (it may have landed); storage refusals surface (as a 5xx), and so does a stream
        // whose entry keeps changing (it would spin, not converge).
        const timedOut = error instanceof Error && error.name === 'TimeoutError'
        if (!(error instanceof Conflict || timedOut) || attempt >= maxCommitAttempts) throw error
        const now = await this.store.load(meta.path)
        if (!now || now.meta.id !== meta.id) throw error
        // Another server adopted our records (we were slower than adoptAfterMs): they are in.
        if (now.meta.nextOffset === meta.nextOffset && meta.nextOffset > read.meta.nextOffset) {
          return now.meta
        }
        if (now.meta.nextOffset !== read.meta.nextOffset) throw error
        const { nextOffset, producers, lastStreamSeq, lastAccessedAt } = meta
        const closing = meta.closed && !now.meta.closed
        meta = { ...now.meta, nextOffset, producers, lastStreamSeq, lastAccessedAt }
        if (closing) meta = { ...meta, closed: true, closedBy: meta.closedBy }
        rev = now.rev
      }
    }
  }

  /** One record is one NATS message: larger ones would be refused midway through an append. */
  private maxRecordBytes(): number {
    return (this.nc.info?.max_payload ?? 1024 * 1024) - headerAllowance
  }

  /** `fn`, or undefined when another server deleted the stream under it (JetStreamLog.ts). */
  private unlessDeleted<T>(meta: StreamMeta, fn: () => Promise<T>): Promise<T | undefined> {
    return unlessDeleted(meta, (path) => this.store.load(path), fn)
  }

  /**
   * Records beyond the committed tail whose writer never committed them (it died after publishing)
   * would block every later append: once they have stayed so for adoptAfterMs, commit the appends
   * that are whole, with the producer state their headers carry. An append cut short (fewer
   * records than its first one announces) was never acknowledged: its writer is fenced off, its
   * records are deleted, so it is all out (its offsets and the fence's stay unused), and its
   * producer's retry is a new append, not a duplicate of something half-stored.
   */
  private async adoptStalled({ meta }: Loaded): Promise<void> {
    const tail = await this.log.tail(meta)
    if (tail <= meta.nextOffset) return
    // By committed tail, not revision: readers of a TTL stream save its metadata (touch) all
    // the time, and a stall must still be seen as one.
    const key = `${meta.id}@${meta.nextOffset}`
    const since = this.stalled.get(key)
    if (since === undefined) {
      if (this.stalled.size > 10_000) this.stalled.clear()
      this.stalled.set(key, Date.now())
      return
    }
    if (Date.now() - since < this.adoptAfterMs) return
    const read = await this.log.readAllOwn(meta, meta.nextOffset, tail)
    const records = read.filter((r) => !r.fence)
    const fences = read.filter((r) => r.fence)
    const partial = cutShort(records)
    let end = tail
    if (partial.length > 0 || fences.length > 0) {
      // Its writer may be alive, only slow: fence it off before deleting, or it could finish
      // the append and commit it with its first records gone. Not at the end any more: it did
      // finish (or another server moved on); try again later.
      if (!(await this.log.fence(meta, tail))) return
      end = tail + 1
      await this.log.deleteRecords(meta, [...partial, ...fences].map((r) => r.offset).concat(tail))
    }
    const adopted: StreamMeta['producers'] = {}
    for (const record of records.slice(0, records.length - partial.length)) {
      const p = record.producer
      if (p) adopted[p.id] = { epoch: p.epoch, lastSeq: p.seq, updatedAt: this.now() }
    }
    // On the latest revision, as commit() merges: readers of a TTL stream touch its entry all
    // the time, and a save on the revision read before all the above would keep failing.
    await retrying(async () => {
      const now = await this.store.load(meta.path)
      if (!now || now.meta.id !== meta.id || now.meta.nextOffset !== meta.nextOffset) return
      const producers = { ...now.meta.producers, ...adopted }
      await this.store.save({ ...now.meta, nextOffset: end, producers }, now.rev)
    })
    this.stalled.delete(key)
    this.notify(meta.id)
  }

  async read(path: string, from: ReadFrom, maxBytes = this.maxReadBytes): Promise<ReadOutcome> {
    const found = await retrying(async () => {
      const live = await this.served(path)
      if (!live || live.meta.softDeleted || live.meta.ttlSeconds === null) return live
      const meta = { ...live.meta, lastAccessedAt: this.now() }
      return { meta, rev: await this.store.save(meta, live.rev) }
    })
    if (!found) return { kind: 'notFound' }
    const meta = found.meta
    if (meta.softDeleted) return { kind: 'gone' }
    const row = rowOf(meta)
    const tail = meta.nextOffset
    if (from.kind === 'now') return atOrBeyondTail(row, tail)
    const start = from.kind === 'start' ? meta.startOffset : from.offset
    if (start < meta.startOffset) return { kind: 'belowStart', startOffset: meta.startOffset }
    if (start >= tail) return atOrBeyondTail(row, start)
    const visible = await this.unlessDeleted(meta, () =>
      this.log.readVisible(meta, start, tail, maxBytes),
    )
    if (!visible) return { kind: 'notFound' }
    const { records, truncated } = visible
    if (meta.topic !== null && records[0]?.offset !== start) {
      // Missing first records: compaction, or retention purged them after this read loaded the
      // metadata (a clean commits the new start, then purges). Retention answers as it would have.
      const now = await this.store.load(path)
      if (now && now.meta.id === meta.id && now.meta.startOffset > start) {
        return from.kind === 'start'
          ? this.read(path, from, maxBytes)
          : { kind: 'belowStart', startOffset: now.meta.startOffset }
      }
    }
    const last = records[records.length - 1]
    const nextOffset = truncated && last ? last.offset + 1 : tail
    return { kind: 'ok', stream: row, records, nextOffset, upToDate: nextOffset >= tail }
  }

  /**
   * Deletes the stream at `path`; with `onlyId`, only if it is still that stream (an incarnation
   * of a topic deletes its own partitions, never a newer one's at the same path).
   */
  delete(path: string, onlyId?: number): Promise<DeleteOutcome> {
    return retrying(async (): Promise<DeleteOutcome> => {
      const found = await this.live(path)
      if (!found || (onlyId !== undefined && found.meta.id !== onlyId)) return { kind: 'notFound' }
      if (found.meta.softDeleted) return { kind: 'gone' }
      await this.remove(found)
      this.notify(found.meta.id)
      return { kind: 'deleted' }
    })
  }

  waitForChange(streamId: number, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    return this.waiters.wait(streamId, timeoutMs, signal)
  }

  get parkedReads(): number {
    return this.waiters.size
  }

  closeLiveReads(): void {
    this.waiters.closeAll()
  }

  async close(): Promise<void> {
    await this.nc.drain()
  }
}

/**
 * The records of the last append in `records` when it is cut short: it announces more records
 * than follow it (or they follow no append's first record at all).
 */
function cutShort(records: readonly LoggedRecord[]): LoggedRecord[] {
  let start = records.length - 1
  while (start >= 0 && !records[start]!.batchStart) start--
  const last = records.slice(Math.max(0, start))
  if (start < 0) return last // no first record: the rest of an append begun below the tail
  const size = records[start]!.batchSize
  return size !== undefined && last.length < size ? last : []
}

/**
 * The metadata bucket, created or opened. Servers started together over one JetStream race to
 * create it: the loser's create is refused ("subjects overlap with an existing stream", or the
 * name in use) while the winner's is being applied; asked again, it opens the bucket that now
 * exists. Any other refusal, or the same one past a few tries, is the caller's.
 */
async function createBucket<T>(create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create()
    } catch (error) {
      const raced = /subjects overlap|already in use/i.test(String((error as Error)?.message))
      if (!raced || attempt >= 5) throw error
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
    }
  }
}
