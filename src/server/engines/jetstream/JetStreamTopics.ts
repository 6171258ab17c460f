import { TopicExistsError } from '../../../log/errors.ts'
import { storedOf, unlessDeleted, type JetStreamLog } from './JetStreamLog.ts'
import type { JetStreamMetaStore } from './JetStreamMetaStore.ts'
import { rowOf, type StreamMeta, type TopicEntry } from './jetStreamMeta.ts'
import type { CreateOutcome, CreateRequest, DeleteOutcome } from '../../engine/outcomes.ts'
import { Conflict, retrying } from './retrying.ts'
import type { StreamRow } from '../../engine/streamRows.ts'
import {
  nothingCleaned,
  planCleaning,
  type PartitionCleanReport,
} from '../../topics/topicCleaner.ts'
import { partitionPath } from '../../../protocol/index.ts'
import { topicIdOf, type PartitionSettings } from '../../topics/partitionSettings.ts'
import type { TopicStore } from '../../topics/TopicStore.ts'

/** What the topics need of the JetStream engine. */
export interface JetStreamTopicsContext {
  store: JetStreamMetaStore
  log: JetStreamLog
  createStream(req: CreateRequest): Promise<CreateOutcome>
  /** Deletes the stream at `path` if it is still stream `onlyId`. */
  delete(path: string, onlyId: number): Promise<DeleteOutcome>
  /** Wakes live readers of a stream on every server (a clean moved its start). */
  notify(id: number): void
  /** The engine's clock: claims go stale by it. */
  now(): number
}

/** A claim that has not become a topic in this long was left by a server that died creating it. */
export const staleClaimMs = 60_000
/** How many partition streams are created or deleted at a time. */
const parallel = 16
const decoder = new TextDecoder()

/**
 * Topics on JetStream. A topic entry in the metadata bucket claims the name for one incarnation
 * (its id); partition streams are created after the claim and the entry turns ready once all
 * exist, so two servers creating one topic end with one, and describe never sees half a topic.
 * Partition streams under the name that carry another id are leftovers of a topic deleted, or
 * of a creation cut short, when its server died: they are never described, and the next
 * creation of the name replaces them.
 */
export class JetStreamTopics implements TopicStore {
  /** This server, as the owner of the cleaner's lease. */
  private readonly owner = crypto.randomUUID()

  constructor(private readonly ctx: JetStreamTopicsContext) {}

  async createPartitions(topic: string, partitions: readonly CreateRequest[]): Promise<void> {
    const id = (JSON.parse(partitions[0]!.topic!) as PartitionSettings).id!
    const entry: TopicEntry = {
      topic,
      id,
      numPartitions: partitions.length,
      ready: false,
      claimedAt: this.ctx.now(),
    }
    await this.claim(entry)
    try {
      await inBatches(partitions, (request) => this.createPartition(entry, request))
      await retrying(async () => {
        const held = await this.ctx.store.loadTopic(topic)
        if (held?.entry.id !== id) throw claimLost(topic)
        await this.ctx.store.saveTopic({ ...held.entry, ready: true }, held.rev)
      })
    } catch (error) {
      await this.release(entry).catch(() => undefined)
      throw error
    }
  }

  private claim(entry: TopicEntry): Promise<void> {
    // Bounded, with backoff: a name that keeps changing hands gives up rather than spin.
    return retrying(async () => {
      try {
        return await this.ctx.store.claimTopic(entry)
      } catch (error) {
        if (!(error instanceof Conflict)) throw error
      }
      const held = await this.ctx.store.loadTopic(entry.topic)
      if (!held) throw new Conflict('the holder released the name meanwhile: claim again')
      if (held.entry.ready || this.ctx.now() - held.entry.claimedAt < staleClaimMs) {
        throw new TopicExistsError(`Topic "${entry.topic}" already exists`)
      }
      await this.ctx.store.dropTopic(held).catch((error: unknown) => {
        if (!(error instanceof Conflict)) throw error
      })
      throw new Conflict('a stale claim was dropped: claim again')
    })
  }

  /**
   * Creates one partition; a leftover partition at its path (another incarnation's) is replaced,
   * but only while this creation still holds the claim: a creator that was too slow and lost it
   * to another server must not delete that server's partitions. A plain stream at the path
   * refuses the creation (TopicStore's contract, as on the embedded engine).
   */
  private async createPartition(entry: TopicEntry, request: CreateRequest): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await this.ctx.createStream(request)
      if (outcome.kind === 'created') return
      if (outcome.kind !== 'exists' && outcome.kind !== 'conflict') break
      const found = await this.ctx.store.load(request.path)
      if (!found) continue
      if (found.meta.topic !== null && topicIdOf(rowOf(found.meta)) === entry.id) return
      // A plain stream is someone's data, not a leftover of the topic: refused, as on SQLite.
      if (found.meta.topic === null) break
      if ((await this.ctx.store.loadTopic(entry.topic))?.entry.id !== entry.id) {
        throw claimLost(entry.topic)
      }
      await this.ctx.delete(request.path, found.meta.id)
    }
    throw new TopicExistsError(`A stream already exists at ${request.path}`)
  }

  /** Undoes a creation that failed: its partitions and its claim. */
  private async release(entry: TopicEntry): Promise<void> {
    const rows = await this.rowsOf(entry)
    await inBatches(rows, (row) => this.ctx.delete(row.path, row.id))
    const held = await this.ctx.store.loadTopic(entry.topic)
    if (held?.entry.id === entry.id) await this.ctx.store.dropTopic(held)
  }

  /** The partition streams that belong to this incarnation of the topic, in partition order. */
  private async rowsOf(entry: TopicEntry): Promise<StreamRow[]> {
    const loaded = await Promise.all(
      Array.from({ length: entry.numPartitions }, (_, p) =>
        this.ctx.store.load(partitionPath(entry.topic, p)),
      ),
    )
    return loaded
      .map((l) => l && rowOf(l.meta))
      .filter(
        (r): r is StreamRow => r !== undefined && r.topic !== null && topicIdOf(r) === entry.id,
      )
  }

  async partitions(topic: string): Promise<StreamRow[]> {
    const held = await this.ctx.store.loadTopic(topic)
    return held?.entry.ready ? this.rowsOf(held.entry) : []
  }

  async topicNames(): Promise<string[]> {
    const names = await this.ctx.store.topicNames()
    const ready = await Promise.all(
      names.map(async (name) => (await this.ctx.store.loadTopic(name))?.entry.ready === true),
    )
    return names.filter((_, i) => ready[i])
  }

  /**
   * The entry goes first, so the topic disappears at once for every server; its partitions
   * follow. Should this server die in between, they are leftovers the next creation replaces.
   */
  async deleteTopic(topic: string): Promise<void> {
    const held = await this.ctx.store.loadTopic(topic)
    if (!held) return
    const rows = await this.rowsOf(held.entry)
    await retrying(async () => {
      const now = await this.ctx.store.loadTopic(topic)
      if (now?.entry.id === held.entry.id) await this.ctx.store.dropTopic(now)
    })
    // By id: a newer incarnation created meanwhile (through another server) keeps its partitions.
    await inBatches(rows, (row) => this.ctx.delete(row.path, row.id))
  }

  async leadCleaning(intervalMs: number): Promise<boolean> {
    const now = this.ctx.now()
    const held = await this.ctx.store.loadLease()
    if (held && held.lease.owner !== this.owner && held.lease.until > now) return false
    try {
      await this.ctx.store.saveLease(
        { owner: this.owner, until: now + 3 * intervalMs },
        held?.rev ?? 0,
      )
      return true
    } catch (error) {
      if (error instanceof Conflict) return false // another server took it first
      throw error
    }
  }

  /**
   * The new start is committed before the records below it are purged, so a reader that sees
   * the new start gets 410 rather than a hole; compaction then deletes single messages, which
   * reads skip.
   */
  async cleanPartition(path: string, now: number): Promise<PartitionCleanReport> {
    const found = await this.ctx.store.load(path)
    if (!found || found.meta.topic === null) return nothingCleaned(path)
    // Deleted (its topic, through another server) while this pass cleaned it: nothing to do.
    const report = await unlessDeleted(
      found.meta,
      (p) => this.ctx.store.load(p),
      () => this.clean(found.meta, now),
    )
    return report ?? nothingCleaned(path)
  }

  private async clean(meta: StreamMeta, now: number): Promise<PartitionCleanReport> {
    const { path } = meta
    const stored = await this.ctx.log.readAllOwn(meta, meta.startOffset, meta.nextOffset)
    const records = stored.map((r) => ({ ...storedOf(r), key: keyOf(r.data) }))
    const plan = planCleaning(rowOf(meta), records, now)
    if (plan.startOffset > meta.startOffset) {
      await retrying(async () => {
        const latest = await this.ctx.store.load(path)
        if (!latest || latest.meta.id !== meta.id || latest.meta.startOffset >= plan.startOffset)
          return
        await this.ctx.store.save({ ...latest.meta, startOffset: plan.startOffset }, latest.rev)
      })
      await this.ctx.log.purgeBelow(meta, plan.startOffset)
      this.ctx.notify(meta.id)
    } else if (meta.startOffset > 0 && (await this.ctx.log.firstOffset(meta)) < meta.startOffset) {
      // Finishes the purge of a pass whose server died between commit and purge (a read first:
      // a purge is a replicated write, not to be made for every partition on every pass).
      await this.ctx.log.purgeBelow(meta, meta.startOffset)
    }
    await this.ctx.log.deleteRecords(meta, plan.compacted)
    return plan.report
  }
}

/** Another server took over a claim it judged stale: this creation lost the name (409). */
const claimLost = (topic: string): TopicExistsError =>
  new TopicExistsError(`Topic "${topic}" was created by another server meanwhile`)

/** The key of a stored topic record ({"key":...,"value":...}). */
const keyOf = (data: Uint8Array): string | null =>
  (JSON.parse(decoder.decode(data)) as { key: string | null }).key

async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += parallel) {
    await Promise.all(items.slice(i, i + parallel).map(fn))
  }
}
