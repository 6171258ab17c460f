import { oversized, type JetStreamLog } from './JetStreamLog.ts'
import type { JetStreamMetaStore } from './JetStreamMetaStore.ts'
import { newStreamId, rowOf, type Loaded, type StreamMeta } from './jetStreamMeta.ts'
import { parseOffset } from '../../../protocol/index.ts'
import type { CreateOutcome, CreateRequest } from '../../engine/outcomes.ts'
import { retrying } from './retrying.ts'
import type { StoredRecord } from '../../engine/streamRows.ts'
import { octetStream, sameType } from '../../engine/streamRules.ts'
import { toRecords } from '../../engine/toRecords.ts'

/** What creating a stream needs of the JetStream engine. */
export interface CreateContext {
  store: JetStreamMetaStore
  log: JetStreamLog
  now: () => number
  /** The stream at a path unless it expired (expiring it on the way). */
  live: (path: string) => Promise<Loaded | undefined>
  /** The largest record one NATS message carries. */
  maxRecordBytes: number
}

/**
 * PUT on the JetStream backend: the same rules as EmbeddedEngine's create (idempotent re-create,
 * forks with inherited type and TTL, sub-offset cuts), with the path claimed by a KV create so
 * that two servers creating one path concurrently end with one stream.
 */
export async function createJetStream(
  ctx: CreateContext,
  req: CreateRequest,
): Promise<CreateOutcome> {
  const existing = await ctx.live(req.path)
  if (existing?.meta.softDeleted) {
    return { kind: 'conflict', message: 'A deleted stream with live forks still holds this path' }
  }
  if (existing) return sameConfig(ctx, existing.meta, req)
  let source: Loaded | undefined
  let forkOffset: number | null = null
  let prefix: StoredRecord | undefined
  if (req.fork) {
    source = await ctx.live(req.fork.from)
    if (!source) return { kind: 'sourceNotFound' }
    const s = source.meta
    if (s.softDeleted) return { kind: 'conflict', message: 'The source stream is deleted' }
    if (s.topic !== null)
      return { kind: 'badRequest', message: 'Topic partitions cannot be forked' }
    if (req.contentType !== undefined && !sameType(req.contentType, s.contentType)) {
      return { kind: 'conflict', message: 'A fork must have its source content type' }
    }
    forkOffset = req.fork.offset === undefined ? s.nextOffset : parseOffset(req.fork.offset)!
    if (forkOffset > s.nextOffset) {
      return { kind: 'badRequest', message: 'Stream-Fork-Offset is beyond the source tail' }
    }
    if (req.fork.subOffset > 0) {
      const cut = await ctx.log.forkPrefix(s, forkOffset, req.fork.subOffset, ctx.now())
      if (typeof cut === 'string') return { kind: 'badRequest', message: cut }
      forkOffset = cut.forkOffset
      prefix = cut.prefix
    }
  }
  const now = ctx.now()
  const inherited = source && req.ttlSeconds === undefined && req.expiresAt === undefined
  const id = newStreamId()
  const meta: StreamMeta = {
    id,
    path: req.path,
    contentType: req.contentType ?? source?.meta.contentType ?? octetStream,
    ttlSeconds: (inherited ? source!.meta.ttlSeconds : req.ttlSeconds) ?? null,
    expiresAt: (inherited ? source!.meta.expiresAt : req.expiresAt) ?? null,
    createdAt: now,
    lastAccessedAt: now,
    closed: req.closed,
    closedBy: null,
    nextOffset: forkOffset ?? 0,
    startOffset: 0,
    lastStreamSeq: null,
    forkedFrom: source?.meta.id ?? null,
    forkOffset,
    forkRequest: req.fork ? `${req.fork.offset ?? ''}+${req.fork.subOffset}` : null,
    refCount: 0,
    softDeleted: false,
    topic: req.topic ?? null,
    producers: {},
    sourcePath: source?.meta.path ?? null,
  }
  const records: StoredRecord[] = prefix ? [{ ...prefix, offset: meta.nextOffset }] : []
  if (req.body.length > 0) {
    const body = toRecords(
      { ...meta, nextOffset: meta.nextOffset + records.length },
      req.body,
      true,
      now,
    )
    if (!body.ok) return { kind: 'badRequest', message: body.message }
    records.push(...body.records)
  }
  const tooLarge = oversized(records, ctx.maxRecordBytes)
  if (tooLarge) return tooLarge
  // Records first, then the metadata that makes them visible: a create that fails midway
  // leaves an orphan JetStream stream at worst, never a stream missing its initial records.
  await ctx.log.add(id)
  await ctx.log.publish(meta, records)
  meta.nextOffset += records.length
  try {
    await ctx.store.create(meta)
  } catch (error) {
    // A write that timed out may still have landed: then the stream is ours, records included.
    // Undone only when the entry is known not to be ours: if even the read back fails, the
    // records stay (an orphan at worst) rather than risk metadata pointing at a removed stream.
    const entry = await ctx.store.load(meta.path).then(
      (loaded) => ({ known: true, ours: loaded?.meta.id === id }),
      () => ({ known: false, ours: false }),
    )
    if (!entry.ours) {
      if (!entry.known) throw error
      // Another server created this path first (or nothing was written): drop ours.
      await ctx.log.remove(id)
      throw error
    }
  }
  if (source) {
    const from = source.meta.path
    await retrying(async () => {
      const s = await ctx.store.load(from)
      if (s) await ctx.store.save({ ...s.meta, refCount: s.meta.refCount + 1 }, s.rev)
    })
  }
  return { kind: 'created', stream: rowOf(meta) }
}

async function sameConfig(
  ctx: CreateContext,
  row: StreamMeta,
  req: CreateRequest,
): Promise<CreateOutcome> {
  const fork = req.fork
  const inherits = fork !== undefined && req.ttlSeconds === undefined && req.expiresAt === undefined
  const same =
    sameType(req.contentType ?? (fork ? row.contentType : octetStream), row.contentType) &&
    (inherits || (req.ttlSeconds ?? null) === row.ttlSeconds) &&
    (inherits || (req.expiresAt ?? null) === row.expiresAt) &&
    req.closed === row.closed &&
    (fork
      ? (await ctx.store.load(fork.from))?.meta.id === row.forkedFrom &&
        (fork.offset === undefined
          ? row.forkRequest?.endsWith(`+${fork.subOffset}`) === true
          : row.forkRequest === `${fork.offset}+${fork.subOffset}`)
      : row.forkedFrom === null)
  return same
    ? { kind: 'exists', stream: rowOf(row) }
    : { kind: 'conflict', message: 'The stream exists with a different configuration' }
}
