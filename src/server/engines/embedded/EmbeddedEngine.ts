import { atOrBeyondTail, expired, octetStream, sameType } from '../../engine/streamRules.ts'
import { parseOffset, type ReadFrom } from '../../../protocol/index.ts'
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
import type { StoredRecord, StreamRow } from '../../engine/streamRows.ts'
import type { ServerStorage } from './ServerStorage.ts'
import type { Awaitable, Engine } from '../../engine/Engine.ts'
import { Durability } from './Durability.ts'
import { Waiters, type WaitResult } from '../../engine/Waiters.ts'
import { forkPrefix, readVisible } from '../../engine/forkReads.ts'
import { TurnCommit } from './TurnCommit.ts'
import { toRecords } from '../../engine/toRecords.ts'
import { EmbeddedTopics } from './EmbeddedTopics.ts'

export interface EmbeddedEngineOptions {
  storage: ServerStorage
  /** The clock, injectable so tests of TTL and retention need not sleep. Default Date.now. */
  now?: () => number
  /** The most record bytes one read returns (at least one record is always returned). Default 1 MiB. */
  maxReadBytes?: number
}

/**
 * The Durable Streams semantics over a ServerStorage: create / append / read / close / delete,
 * idempotent producers, TTL and expiry, forks, and the wake-ups of live readers. Each operation is
 * one storage transaction, so it is atomic and, with JavaScript's single thread, serialised per
 * stream and producer as the protocol requires.
 */
export class EmbeddedEngine implements Engine {
  readonly storage: ServerStorage
  readonly now: () => number
  readonly maxReadBytes: number
  readonly topics: EmbeddedTopics = new EmbeddedTopics(this)
  private readonly waiters = new Waiters()
  private readonly appends: TurnCommit<AppendRequest, AppendOutcome>
  private readonly durability: Durability

  constructor(options: EmbeddedEngineOptions) {
    this.storage = options.storage
    this.now = options.now ?? Date.now
    this.maxReadBytes = options.maxReadBytes ?? 1024 * 1024
    this.durability = new Durability(this.storage.flush)
    this.appends = new TurnCommit(
      this.storage,
      (req) => this.appendNow(req),
      () => this.durability.committed(),
    )
  }

  /** The stream at `path` unless it expired; an expired stream with forks becomes soft-deleted. */
  private live(path: string): StreamRow | undefined {
    const row = this.storage.getStream(path)
    if (!row || !expired(row, this.now())) return row
    this.remove(row)
    return row.refCount > 0 ? { ...row, softDeleted: true } : undefined
  }

  /** Deletes a stream, or soft-deletes it while forks still read from it; cascades to parents. */
  private remove(row: StreamRow): void {
    if (row.refCount > 0) {
      if (!row.softDeleted) this.storage.updateStream({ ...row, softDeleted: true })
      return
    }
    this.storage.deleteStream(row.id)
    this.waiters.wake(row.id)
    if (row.forkedFrom === null) return
    const parent = this.storage.getStreamById(row.forkedFrom)
    if (!parent) return
    const updated = { ...parent, refCount: Math.max(0, parent.refCount - 1) }
    if (updated.refCount === 0 && updated.softDeleted) this.remove(updated)
    else this.storage.updateStream(updated)
  }

  private touch(row: StreamRow): StreamRow {
    if (row.ttlSeconds === null) return row
    const touched = { ...row, lastAccessedAt: this.now() }
    this.storage.updateStream(touched)
    return touched
  }

  private createNow(req: CreateRequest): CreateOutcome {
    return this.storage.transaction(() => {
      const existing = this.live(req.path)
      if (existing?.softDeleted) {
        return {
          kind: 'conflict',
          message: 'A deleted stream with live forks still holds this path',
        }
      }
      if (existing) return this.sameConfig(existing, req)
      let source: StreamRow | undefined
      let forkOffset: number | null = null
      let prefix: StoredRecord | undefined
      if (req.fork) {
        source = this.live(req.fork.from)
        if (!source) return { kind: 'sourceNotFound' }
        if (source.softDeleted) return { kind: 'conflict', message: 'The source stream is deleted' }
        if (source.topic !== null) {
          return { kind: 'badRequest', message: 'Topic partitions cannot be forked' }
        }
        if (req.contentType !== undefined && !sameType(req.contentType, source.contentType)) {
          return { kind: 'conflict', message: 'A fork must have its source content type' }
        }
        forkOffset =
          req.fork.offset === undefined ? source.nextOffset : parseOffset(req.fork.offset)!
        if (forkOffset > source.nextOffset) {
          return { kind: 'badRequest', message: 'Stream-Fork-Offset is beyond the source tail' }
        }
        if (req.fork.subOffset > 0) {
          const cut = forkPrefix(this.storage, source, forkOffset, req.fork.subOffset, this.now())
          if (!cut.ok) return { kind: 'badRequest', message: cut.message }
          forkOffset = cut.forkOffset
          prefix = cut.prefix
        }
      }
      const now = this.now()
      const inherited = source && req.ttlSeconds === undefined && req.expiresAt === undefined
      let row = this.storage.insertStream({
        path: req.path,
        contentType: req.contentType ?? source?.contentType ?? octetStream,
        ttlSeconds: (inherited ? source!.ttlSeconds : req.ttlSeconds) ?? null,
        expiresAt: (inherited ? source!.expiresAt : req.expiresAt) ?? null,
        createdAt: now,
        lastAccessedAt: now,
        closed: false,
        closedBy: null,
        nextOffset: forkOffset ?? 0,
        startOffset: 0,
        lastStreamSeq: null,
        forkedFrom: source?.id ?? null,
        forkOffset,
        forkRequest: req.fork ? `${req.fork.offset ?? ''}+${req.fork.subOffset}` : null,
        refCount: 0,
        softDeleted: false,
        topic: req.topic ?? null,
      })
      if (prefix) {
        this.storage.appendRecords(row.id, [{ ...prefix, offset: row.nextOffset }])
        row.nextOffset += 1
      }
      if (req.body.length > 0) {
        const records = toRecords(row, req.body, true, this.now())
        if (!records.ok) throw new BadRequest(records.message)
        this.storage.appendRecords(row.id, records.records)
        row.nextOffset += records.records.length
      }
      row = { ...row, closed: req.closed }
      this.storage.updateStream(row)
      if (source) this.storage.updateStream({ ...source, refCount: source.refCount + 1 })
      return { kind: 'created', stream: row }
    })
  }

  /**
   * `value` once every write so far is durable: what a write answers with, so nothing is
   * acknowledged before the storage's flush (immediately on storages without one).
   */
  durably<T>(value: T, replacedPaths?: readonly string[]): Awaitable<T> {
    const durable = this.durability.committed(replacedPaths)
    return durable ? durable.then(() => value) : value
  }

  /** Creates a stream (or confirms an identical one), answering once that is durable. */
  createStream(req: CreateRequest): Awaitable<CreateOutcome> {
    // After the path's (and a fork source's) pending creation or deletion: an answer about them
    // ("exists", "conflict", "no source") must not rest on what a power cut could undo.
    const from = req.fork?.from
    return this.after(
      () =>
        this.durability.settled(req.path) ??
        (from === undefined ? undefined : this.durability.settled(from)),
      () => {
        const outcome = this.createStreamNow(req)
        if (outcome.kind === 'created') return this.durably(outcome, [req.path])
        return outcome.kind === 'exists' ? this.durably(outcome) : outcome
      },
    )
  }

  /**
   * `then` once `pending` finds nothing pending; now if it finds nothing. Asked again after each
   * wait: a path may have been created or deleted anew while the last change flushed.
   */
  private after<T>(
    pending: () => Promise<void> | undefined,
    then: () => Awaitable<T>,
  ): Awaitable<T> {
    const settled = pending()
    return settled ? settled.then(() => this.after(pending, then)) : then()
  }

  /** `then` once the latest creation or deletion of `path` is durable; now if it is. */
  private whenSettled<T>(path: string, then: () => Awaitable<T>): Awaitable<T> {
    return this.after(() => this.durability.settled(path), then)
  }

  /** `then` once the pending creations and deletions of paths under `prefix` are durable. */
  whenSettledUnder<T>(prefix: string, then: () => Awaitable<T>): Awaitable<T> {
    return this.after(() => this.durability.settledUnder(prefix), then)
  }

  /**
   * A stream's row as readers may see it (as of its last durable write), or undefined while its
   * creation is not durable yet: for listings, which show what is durable rather than wait.
   */
  durableRow(row: StreamRow): StreamRow | undefined {
    return this.durability.replacing(row.path) ? undefined : this.durability.visible(row)
  }

  /** Creates a stream (or confirms an identical one); a refused initial body writes nothing. */
  createStreamNow(req: CreateRequest): CreateOutcome {
    try {
      return this.createNow(req)
    } catch (error) {
      if (error instanceof BadRequest) return { kind: 'badRequest', message: error.message }
      throw error
    }
  }

  private sameConfig(row: StreamRow, req: CreateRequest): CreateOutcome {
    const fork = req.fork
    // A fork given no TTL or expiry inherits its source's, so those match whatever it has.
    const inherits =
      fork !== undefined && req.ttlSeconds === undefined && req.expiresAt === undefined
    const same =
      sameType(req.contentType ?? (fork ? row.contentType : octetStream), row.contentType) &&
      (inherits || (req.ttlSeconds ?? null) === row.ttlSeconds) &&
      (inherits || (req.expiresAt ?? null) === row.expiresAt) &&
      req.closed === row.closed &&
      (fork
        ? this.storage.getStream(fork.from)?.id === row.forkedFrom &&
          (fork.offset === undefined
            ? row.forkRequest?.endsWith(`+${fork.subOffset}`) === true
            : row.forkRequest === `${fork.offset}+${fork.subOffset}`)
        : row.forkedFrom === null)
    return same
      ? { kind: 'exists', stream: row }
      : { kind: 'conflict', message: 'The stream exists with a different configuration' }
  }

  head(path: string): Awaitable<StreamLookup> {
    return this.whenSettled(path, () => this.headNow(path))
  }

  private headNow(path: string): StreamLookup {
    return this.storage.transaction(() => {
      const row = this.live(path)
      if (!row) return { kind: 'notFound' }
      return row.softDeleted
        ? { kind: 'gone' }
        : { kind: 'ok', stream: this.durability.visible(row) }
    })
  }

  /** Appends (and closes); resolves once the append's group commit is durable. */
  async append(req: AppendRequest): Promise<AppendOutcome> {
    const outcome = await this.appends.submit(req)
    if (outcome.kind === 'appended' || outcome.kind === 'closed') {
      this.waiters.wake(outcome.stream.id)
    }
    return outcome
  }

  /** One append, inside the group's transaction. */
  private appendNow(req: AppendRequest): AppendOutcome {
    return this.storage.transaction((): AppendOutcome => {
      const found = this.live(req.path)
      if (!found) return { kind: 'notFound' }
      if (found.softDeleted) return { kind: 'gone' }
      let row = this.touch(found)
      const p = req.producer
      const closeOnly = req.body.length === 0 && req.close
      if (row.closed) {
        const by = row.closedBy
        if (p && by && by.producerId === p.id && by.epoch === p.epoch && by.seq === p.seq) {
          return { kind: 'duplicate', stream: row, epoch: p.epoch, lastSeq: p.seq }
        }
        // Closing a closed stream again is idempotent; appending to it is not.
        if (closeOnly && !p) return { kind: 'closed', stream: row, producer: undefined }
        return { kind: 'streamClosed', stream: row }
      }
      if (!closeOnly && !sameType(req.contentType ?? '', row.contentType)) {
        return { kind: 'contentTypeMismatch', expected: row.contentType }
      }
      let producerState
      if (p) {
        const verdict = checkProducer(
          this.storage.getProducer(row.id, p.id),
          p.epoch,
          p.seq,
          this.now(),
        )
        if (verdict.kind === 'duplicate') {
          return { kind: 'duplicate', stream: row, epoch: p.epoch, lastSeq: verdict.lastSeq }
        }
        if (verdict.kind !== 'accept') return verdict
        producerState = verdict.state
      }
      if (req.streamSeq !== undefined) {
        if (row.lastStreamSeq !== null && req.streamSeq <= row.lastStreamSeq) {
          return { kind: 'streamSeqConflict', last: row.lastStreamSeq }
        }
        row = { ...row, lastStreamSeq: req.streamSeq }
      }
      this.durability.changing(found)
      if (!closeOnly) {
        const records = toRecords(row, req.body, false, this.now())
        if (!records.ok) return { kind: 'badRequest', ...records }
        this.storage.appendRecords(row.id, records.records)
        row = { ...row, nextOffset: row.nextOffset + records.records.length }
      }
      if (producerState) this.storage.putProducer(row.id, p!.id, producerState)
      if (req.close) {
        row = {
          ...row,
          closed: true,
          closedBy: p ? { producerId: p.id, epoch: p.epoch, seq: p.seq } : null,
        }
      }
      this.storage.updateStream(row)
      return { kind: closeOnly ? 'closed' : 'appended', stream: row, producer: p }
    })
  }

  read(path: string, from: ReadFrom, maxBytes = this.maxReadBytes): Awaitable<ReadOutcome> {
    return this.whenSettled(path, () => this.readNow(path, from, maxBytes))
  }

  private readNow(path: string, from: ReadFrom, maxBytes: number): ReadOutcome {
    return this.storage.transaction((): ReadOutcome => {
      const found = this.live(path)
      if (!found) return { kind: 'notFound' }
      if (found.softDeleted) return { kind: 'gone' }
      const row = this.durability.visible(this.touch(found))
      const tail = row.nextOffset
      if (from.kind === 'now') return atOrBeyondTail(row, tail)
      const start = from.kind === 'start' ? row.startOffset : from.offset
      if (start < row.startOffset) return { kind: 'belowStart', startOffset: row.startOffset }
      if (start >= tail) return atOrBeyondTail(row, start)
      const { records, truncated } = readVisible(this.storage, row, start, tail, maxBytes)
      const last = records[records.length - 1]
      const nextOffset = truncated && last ? last.offset + 1 : tail
      return { kind: 'ok', stream: row, records, nextOffset, upToDate: nextOffset >= tail }
    })
  }

  /** Deletes a stream, answering once that is durable. */
  delete(path: string): Awaitable<DeleteOutcome> {
    return this.whenSettled(path, () => {
      const outcome = this.deleteNow(path)
      return outcome.kind === 'deleted' ? this.durably(outcome, [path]) : outcome
    })
  }

  deleteNow(path: string): DeleteOutcome {
    return this.storage.transaction(() => {
      const row = this.live(path)
      if (!row) return { kind: 'notFound' }
      if (row.softDeleted) return { kind: 'gone' }
      this.remove(row)
      this.waiters.wake(row.id)
      return { kind: 'deleted' }
    })
  }

  /** Resolves when the stream changes (append, close, delete), on timeout, or when aborted. */
  waitForChange(streamId: number, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    return this.waiters.wait(streamId, timeoutMs, signal)
  }

  /** Live reads (long-polls, SSE connections) waiting for data right now. */
  get parkedReads(): number {
    return this.waiters.size
  }

  /** Ends every live read (long-polls answer, SSE connections close): the server is shutting down. */
  closeLiveReads(): void {
    this.waiters.closeAll()
  }

  close(): void {
    this.storage.close()
  }
}

class BadRequest extends Error {}
