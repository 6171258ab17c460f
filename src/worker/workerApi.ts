import { proxy, releaseProxy } from 'comlink'
import type { CreateTopicsOptions, OffsetCommit } from '../log/Admin.ts'
import type { CleanerRunOptions } from '../log/Cleaner.ts'
import type { Consumer, ConsumerConfig } from '../log/Consumer.ts'
import { DualityError, InvalidArgumentError, type ErrorDetails } from '../log/errors.ts'
import type { GroupMembership, TopicPartition } from '../log/GroupMembership.ts'
import type { FetchOptions, Log, Message } from '../log/Log.ts'
import { topicRange } from '../log/LogStorage.ts'
import type { ProducerRecord, RecordMetadata } from '../log/Producer.ts'
import type { Sync, SyncStatus } from '../sync/Sync.ts'
import type { Rejection } from '../sync/rejections.ts'
import { toRelay, type SyncRelay } from '../sync/syncRelay.ts'
import { createViewsApi, type ViewSpec, type ViewsApiOptions } from './views/createViewsApi.ts'
import { decodeSendWire, type SendWire } from './sendWire.ts'
import { storageStatusReader, type StorageStatus } from './storageStatus.ts'

/** An outcome that crosses the worker boundary: errors as their JSON form. */
export type Settled<T> =
  | { ok: true; value: T }
  | { ok: false; error: { code: string; message: string; details?: ErrorDetails } }

/** The sync status as the page gets it: with what the browser says of the origin's storage. */
export type PageSyncStatus = SyncStatus & { storage: StorageStatus }

/** What the page hears of sync besides its status (errors as their JSON form). */
export type SyncNotice = Extract<SyncRelay, { type: 'rejected' | 'reset' }>

/** A batch of records for one partition, as a page consumer receives it. */
export interface DeliveredBatch {
  topic: string
  partition: number
  highWatermark: number
  messages: Message[]
}

/** What the page's handler reports back: the last offset it processed, and its error if any. */
export interface DeliveryReport {
  resolved: number | null
  error?: { name: string; message: string }
}

const settle = (error: unknown): Settled<never> => ({
  ok: false,
  error:
    error instanceof DualityError
      ? error.toJSON()
      : { code: 'UNKNOWN_SERVER_ERROR', message: String((error as Error)?.message ?? error) },
})

/**
 * The API a worker exposes over comlink. The page's client (`connect`) is typed from it
 * (`Remote<WorkerApi>`), so the two sides cannot drift apart.
 */
export function createWorkerApi(
  log: Log,
  options: {
    membership?: () => GroupMembership
    topicsChanged?: () => void
    /** Materialized views the page can mirror (duality/zustand). */
    views?: ViewSpec[]
    /** Changelog previews for the views (ViewsApiOptions.previews). */
    previews?: ViewsApiOptions['previews']
    /** Views as of an input offset or time (ViewsApiOptions.asOf). */
    asOf?: ViewsApiOptions['asOf']
    /** The tab's sync, whose status the page can show. */
    sync?: Sync
    /** `serve({ storage: { persist: true } })`: the page's `connect()` asks the browser to persist. */
    persist?: boolean
  } = {},
) {
  const storage = storageStatusReader()
  const withStorage = async (status: SyncStatus): Promise<PageSyncStatus> => ({
    ...status,
    storage: await storage.status(),
  })
  const consumers = new Map<string, Consumer>()
  const syncListeners = new Map<string, () => void>()
  /** The page callbacks each consumer holds, released when it stops. */
  const callbacks = new Map<string, unknown[]>()
  const admin = log.admin()
  // Sends from the page to a synced topic wait in its outbox (sync's routing).
  const producer = options.sync ? options.sync.producer() : log.producer()
  const consumerOf = (id: string): Consumer => {
    const consumer = consumers.get(id)
    if (!consumer) throw new InvalidArgumentError(`No consumer ${id} in this worker (stopped?)`)
    return consumer
  }
  const changed = <T>(result: T): T => {
    options.topicsChanged?.()
    return result
  }

  return {
    /** Many sends in one message; each settles on its own, all-or-nothing as in-process. */
    /**
     * A page task's sends in one message (the client's wire, see sendWire.ts); each settles on its
     * own, all-or-nothing. Its JSON texts are made by Serdes.JSON() in the page, so they are not
     * checked again here.
     */
    async sendMany(wire: SendWire): Promise<Settled<RecordMetadata[]>[]> {
      const outcomes = await Promise.all(
        decodeSendWire(wire).map((send) =>
          Promise.resolve()
            .then(() =>
              send.encoded
                ? producer.sendEncoded(send.record, { checked: true })
                : producer.send(send.record),
            )
            .then((value) => ({ ok: true as const, value }), settle),
        ),
      )
      const last = outcomes.at(-1)
      // A full disk is shown in the status (sync store, devtools) until a send succeeds again.
      if (last && storage.sent(last.ok ? null : last.error)) options.sync?.refresh()
      return outcomes
    },
    sendBatch: (topicMessages: ProducerRecord[]) => producer.sendBatch({ topicMessages }),
    fetch: (fetchOptions: FetchOptions) => log.fetch(fetchOptions),
    runCleaner: (runOptions?: CleanerRunOptions) => log.cleaner.run(runOptions),
    /** What this worker is doing for the tabs it shares the log with, and its storage. */
    status: async () => ({ cleaner: log.cleaner.active, storage: await storage.status() }),
    storage: {
      /** What `serve({ storage })` asked for: `connect()` asks the browser to persist (a page may). */
      config: () => ({ persist: options.persist === true }),
      status: () => storage.status(),
      /** The page asked the browser to persist: read the figures again and tell the tabs. */
      changed(): void {
        storage.invalidate()
        options.sync?.refresh()
      },
    },
    /** Views as zustand stores in the page (see src/views/createViewsApi.ts). */
    views: createViewsApi(log, options.views, {
      ...(options.previews ? { previews: options.previews } : {}),
      ...(options.asOf ? { asOf: options.asOf } : {}),
    }),

    /** Sync status: connection, pending local sends and lag per synced topic (null: no sync). */
    sync: {
      status: async (): Promise<PageSyncStatus | null> =>
        options.sync ? withStorage(await options.sync.status()) : null,
      /** Calls `listener` with each new status; returns an id for `unsubscribe`. */
      subscribe(listener: (status: PageSyncStatus) => void): string {
        const id = crypto.randomUUID()
        const off = options.sync?.subscribe((event) => {
          if (event.type === 'status') void withStorage(event.status).then(listener)
        })
        syncListeners.set(id, () => {
          off?.()
          ;(listener as Partial<Record<typeof releaseProxy, () => void>>)[releaseProxy]?.()
        })
        return id
      },
      /**
       * Calls `listener` when the server refuses a local record for good (it left the outbox) or
       * a synced topic was copied again after a server reset; returns an id for `unsubscribe`.
       */
      subscribeEvents(listener: (event: SyncNotice) => void): string {
        const id = crypto.randomUUID()
        const off = options.sync?.subscribe((event) => {
          if (event.type === 'rejected' || event.type === 'reset')
            listener(toRelay(event) as SyncNotice)
        })
        syncListeners.set(id, () => {
          off?.()
          ;(listener as Partial<Record<typeof releaseProxy, () => void>>)[releaseProxy]?.()
        })
        return id
      },
      /** The refused sends of a synced topic not dismissed yet (every synced topic's without one). */
      rejections: (topic?: string): Promise<Rejection[]> =>
        options.sync?.rejections(topic) ?? Promise.resolve([]),
      /** Removes refusals the app has dealt with (all of the topic's without `which`). */
      dismiss: (topic: string, which?: { partition: number; offset: number }[]): Promise<void> =>
        options.sync?.dismissRejections(topic, which) ?? Promise.resolve(),
      unsubscribe(id: string): void {
        syncListeners.get(id)?.()
        syncListeners.delete(id)
      },
    },

    admin: {
      createTopics: (o: CreateTopicsOptions) => admin.createTopics(o).then(changed),
      deleteTopics: (o: { topics: string[] }) => admin.deleteTopics(o).then(changed),
      listTopics: () => admin.listTopics(),
      fetchTopicMetadata: (o?: { topics?: string[] }) => admin.fetchTopicMetadata(o),
      fetchTopicOffsets: (topic: string) => admin.fetchTopicOffsets(topic),
      fetchTopicOffsetsByTimestamp: (topic: string, timestamp: number) =>
        admin.fetchTopicOffsetsByTimestamp(topic, timestamp),
      fetchOffsets: (o: { groupId: string; topics?: string[] }) => admin.fetchOffsets(o),
      setOffsets: (o: Parameters<typeof admin.setOffsets>[0]) => admin.setOffsets(o),
      /**
       * What devtools show of a topic and KafkaJS's admin has no call for: its config, and per
       * partition the offsets, the stored bytes and how far compaction has cleaned.
       */
      async describeTopic(topic: string) {
        const row = await log.topic(topic, true)
        const partitions = await log.storage.read(['partitions'], (tx) =>
          tx.getAll('partitions', topicRange(topic)),
        )
        return {
          topic: row.name,
          config: row.config,
          partitions: partitions.map((p) => ({
            partition: p.partition,
            low: p.logStartOffset,
            high: p.nextOffset,
            bytes: p.bytes,
            cleanedOffset: p.cleanedOffset,
          })),
        }
      },
    },

    consumer: {
      create(config: Omit<ConsumerConfig, 'membership'>): string {
        const id = crypto.randomUUID()
        const membership = options.membership?.()
        consumers.set(id, log.consumer(membership ? { ...config, membership } : config))
        return id
      },
      subscribe: (id: string, o: { topics?: string[]; topic?: string; fromBeginning?: boolean }) =>
        consumerOf(id).subscribe(o),
      async run(
        id: string,
        deliver: (batch: DeliveredBatch) => Promise<DeliveryReport>,
        // Its own argument: comlink passes callbacks by reference only at the top level.
        onCrash: ((error: { message: string }) => void) | null,
        config: { autoCommit?: boolean },
      ): Promise<void> {
        const consumer = consumerOf(id)
        callbacks.set(id, [deliver, onCrash])
        if (onCrash) {
          consumer.on('consumer.crash', ({ payload }) =>
            onCrash({ message: String((payload.error as Error)?.message ?? payload.error) }),
          )
        }
        const run: Parameters<Consumer['run']>[0] = {
          eachBatchAutoResolve: false,
          // Whole batches cross the boundary; the page runs eachMessage over them.
          eachBatch: async ({ batch, resolveOffset }) => {
            const { topic, partition, highWatermark, messages } = batch
            const report = await deliver({ topic, partition, highWatermark, messages })
            if (report.resolved !== null) resolveOffset(report.resolved)
            if (report.error) throw Object.assign(new Error(report.error.message), report.error)
          },
        }
        if (config.autoCommit !== undefined) run.autoCommit = config.autoCommit
        await consumer.run(run)
      },
      seek: (id: string, o: TopicPartition & { offset: number }) => consumerOf(id).seek(o),
      seekToBeginning: (id: string, tps?: TopicPartition[]) => consumerOf(id).seekToBeginning(tps),
      seekToEnd: (id: string, tps?: TopicPartition[]) => consumerOf(id).seekToEnd(tps),
      seekToTimestamp: (id: string, timestamp: number, tps?: TopicPartition[]) =>
        consumerOf(id).seekToTimestamp(timestamp, tps),
      commitOffsets: (id: string, offsets: OffsetCommit[]) => consumerOf(id).commitOffsets(offsets),
      pause: (id: string, topics: { topic: string; partitions?: number[] }[]) =>
        consumerOf(id).pause(topics),
      resume: (id: string, topics: { topic: string; partitions?: number[] }[]) =>
        consumerOf(id).resume(topics),
      assignment: (id: string) => consumerOf(id).assignment(),
      async stop(id: string): Promise<void> {
        const consumer = consumers.get(id)
        consumers.delete(id)
        await consumer?.stop()
        for (const callback of callbacks.get(id) ?? []) {
          ;(callback as Partial<Record<typeof releaseProxy, () => void>> | null)?.[releaseProxy]?.()
        }
        callbacks.delete(id)
      },
    },
  }
}

export type WorkerApi = ReturnType<typeof createWorkerApi>

/** Marks a page callback so comlink passes it by reference (the page wraps handlers with this). */
export const callback = proxy
