import { proxy, releaseProxy, wrap, type Endpoint, type Remote } from 'comlink'
import type { OffsetCommit } from '../log/Admin.ts'
import type { Batch, ConsumerConfig, ConsumerRunConfig } from '../log/Consumer.ts'
import { errorFromJSON, InvalidArgumentError } from '../log/errors.ts'
import type { TopicPartition } from '../log/GroupMembership.ts'
import type { FetchOptions } from '../log/Log.ts'
import type { ProducerRecord, RecordMetadata } from '../log/Producer.ts'
import {
  isTopicDefinition,
  topicName,
  validateMessages,
  type AnyTopicDefinition,
} from '../log/TopicDefinition.ts'
import { installErrorTransfer } from './errorTransfer.ts'
import { SendWireBuilder } from './sendWire.ts'
import { requestPersistence } from './storageStatus.ts'
import type { DeliveredBatch, DeliveryReport, WorkerApi } from './workerApi.ts'

export type RemoteApi = Remote<WorkerApi>

/**
 * A namespace of the worker API (`admin`, `consumer`) as the page calls it: comlink forwards a call
 * on any property path, and every call returns a promise. Derived from WorkerApi, never copied.
 */
export type RemoteNamespace<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never
}
type Admin = RemoteNamespace<WorkerApi['admin']>
type Consumers = RemoteNamespace<WorkerApi['consumer']>

/** The page side of a worker served with `serve()`: the same producer / consumer / admin API. */
export interface Client {
  producer(): ClientProducer
  consumer(config: Omit<ConsumerConfig, 'membership'>): ClientConsumer
  admin(): Admin
  fetch: RemoteNamespace<WorkerApi>['fetch']
  cleaner: { run: RemoteNamespace<WorkerApi>['runCleaner'] }
  status: RemoteNamespace<WorkerApi>['status']
  /** The comlink proxy, for what the client does not wrap. */
  remote: RemoteApi
  /** Releases the connection (the worker keeps running; terminate it yourself). */
  close(): void
}

export interface ClientProducer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send<V = unknown, K = unknown>(record: ProducerRecord<V, K>): Promise<RecordMetadata[]>
  sendBatch(batch: { topicMessages: ProducerRecord[] }): Promise<RecordMetadata[]>
}

export interface ConnectOptions {
  /**
   * Typed topics (`defineTopic`, the same ones the worker serves): sends to them are validated
   * here, before they cross to the worker, and refused at once with a SchemaValidationError.
   * The worker validates them again before it appends.
   */
  schemas?: readonly AnyTopicDefinition[]
}

export type ClientConsumer = ReturnType<typeof createConsumer>

/**
 * Connects to a worker that called `serve()`. Calls cross the boundary as batches: sends made in
 * the same task travel in one message (and share the worker's group commit), and consumers
 * receive whole batches, running `eachMessage` in the page.
 */
export function connect(
  worker: Worker | MessagePort | Endpoint,
  options: ConnectOptions = {},
): Client {
  installErrorTransfer()
  const remote = wrap<WorkerApi>(worker as Endpoint)
  void askPersistence(remote)
  const schemas = new Map((options.schemas ?? []).map((d) => [d.name, d]))
  /** The typed topic a send goes to: as this page was given it, else as the send names it. */
  const definition = (record: ProducerRecord) =>
    record === null || typeof record !== 'object'
      ? undefined
      : (schemas.get(topicName(record.topic)) ??
        (isTopicDefinition(record.topic) ? record.topic : undefined))
  /** Refuses a send its topic's schema refuses; what crosses is the send by topic name. */
  const check = async (record: ProducerRecord): Promise<ProducerRecord> => {
    if (record === null || typeof record !== 'object' || !Array.isArray(record.messages))
      return record // the wire names this error
    const def = definition(record)
    // The worker applies the schema's output itself: only whether the send passes matters here.
    if (def) await validateMessages(def, record.messages)
    return { topic: topicName(record.topic), messages: record.messages }
  }
  let queue: {
    record: ProducerRecord
    resolve(v: RecordMetadata[]): void
    reject(e: unknown): void
  }[] = []
  // Sends cross in the order they were made, even when a schema keeps one task's waiting: each
  // task's sends wait for the typed tasks before them to have crossed. With none in flight and no
  // schema in this task, they cross at once, as before there were schemas.
  let crossed: Promise<unknown> = Promise.resolve()
  let typedInFlight = 0
  const flush = async () => {
    const sends = queue
    queue = []
    // A send the page cannot even encode, or its schema refuses, fails alone before anything crosses.
    const builder = new SendWireBuilder()
    const live: typeof sends = []
    let checked: PromiseSettledResult<ProducerRecord>[]
    if (typedInFlight === 0 && !sends.some((s) => definition(s.record))) {
      checked = sends.map((s) => ({
        status: 'fulfilled',
        value:
          s.record === null || typeof s.record !== 'object'
            ? s.record
            : { ...s.record, topic: topicName(s.record.topic) },
      }))
    } else {
      typedInFlight++
      const checks = Promise.allSettled(sends.map((s) => check(s.record)))
      const turn = crossed.then(() => checks)
      crossed = turn
      checked = await turn
      typedInFlight--
    }
    for (const [i, s] of sends.entries()) {
      const record = checked[i]!
      if (record.status === 'rejected') {
        s.reject(record.reason)
        continue
      }
      try {
        builder.add(record.value)
        live.push(s)
      } catch (error) {
        s.reject(error)
      }
    }
    if (live.length === 0) return
    try {
      const outcomes = await remote.sendMany(builder.wire)
      outcomes.forEach((o, i) =>
        o.ok ? live[i]!.resolve(o.value) : live[i]!.reject(errorFromJSON(o.error)),
      )
    } catch (error) {
      for (const s of live) s.reject(error)
    }
  }
  const producer: ClientProducer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    send(record) {
      return new Promise((resolve, reject) => {
        if (queue.push({ record: record as ProducerRecord, resolve, reject }) === 1)
          queueMicrotask(() => void flush())
      })
    },
    sendBatch: async ({ topicMessages }) =>
      remote.sendBatch(
        Array.isArray(topicMessages) ? await Promise.all(topicMessages.map(check)) : topicMessages,
      ),
  }
  return {
    producer: () => producer,
    consumer: (config) => createConsumer(remote, config),
    admin: () => remote.admin as unknown as Admin,
    fetch: (options: FetchOptions) => remote.fetch(options),
    cleaner: { run: (options) => remote.runCleaner(options) },
    status: () => remote.status(),
    remote,
    close: () => remote[releaseProxy](),
  }
}

/**
 * `serve({ storage: { persist: true } })`: asks the browser to keep the origin's storage, from the
 * page (workers have no `persist()`), then has the worker read its storage status again.
 */
async function askPersistence(remote: RemoteApi): Promise<void> {
  try {
    const storage = remote.storage as unknown as RemoteNamespace<WorkerApi['storage']>
    if (!(await storage.config()).persist) return
    if ((await requestPersistence()) !== null) await storage.changed()
  } catch {
    // A worker that is gone, or an old one without the call: nothing to ask.
  }
}

function createConsumer(api: RemoteApi, config: Omit<ConsumerConfig, 'membership'>) {
  const remote = { consumer: api.consumer as unknown as Consumers }
  const id = remote.consumer.create(config)
  const crashListeners = new Set<(event: { payload: { error: Error; groupId: string } }) => void>()
  let running = false
  const call = async <T>(f: (id: string) => Promise<T>): Promise<T> => f(await id)
  return {
    groupId: config.groupId,
    connect: async () => undefined,
    subscribe: (o: { topics?: string[]; topic?: string; fromBeginning?: boolean }) =>
      call((i) => remote.consumer.subscribe(i, o)),
    async run(run: ConsumerRunConfig): Promise<void> {
      if (!run?.eachMessage && !run?.eachBatch) {
        throw new InvalidArgumentError('run needs an eachMessage or eachBatch handler')
      }
      running = true
      const deliver = async (batch: DeliveredBatch): Promise<DeliveryReport> => {
        let resolved: number | null = null
        const resolveOffset = (offset: number) => {
          resolved = Math.max(resolved ?? -1, offset)
        }
        try {
          await handle(run, batch, resolveOffset, () => running)
          if (run.eachBatch && run.eachBatchAutoResolve !== false && batch.messages.length > 0) {
            resolveOffset(batch.messages.at(-1)!.offset)
          }
          return { resolved }
        } catch (error) {
          const e = error as Error
          return { resolved, error: { name: e?.name ?? 'Error', message: String(e?.message ?? e) } }
        }
      }
      const onCrash = (error: { message: string }) => {
        running = false
        for (const l of crashListeners)
          l({ payload: { error: new Error(error.message), groupId: config.groupId } })
      }
      const options = run.autoCommit === undefined ? {} : { autoCommit: run.autoCommit }
      await call((i) => remote.consumer.run(i, proxy(deliver), proxy(onCrash), options))
    },
    on(
      event: 'consumer.crash',
      listener: (event: { payload: { error: Error; groupId: string } }) => void,
    ) {
      if (event !== 'consumer.crash')
        throw new InvalidArgumentError(`Unknown consumer event "${String(event)}"`)
      crashListeners.add(listener)
      return () => crashListeners.delete(listener)
    },
    seek: (o: TopicPartition & { offset: number }) => call((i) => remote.consumer.seek(i, o)),
    seekToBeginning: (tps?: TopicPartition[]) =>
      call((i) => remote.consumer.seekToBeginning(i, tps)),
    seekToEnd: (tps?: TopicPartition[]) => call((i) => remote.consumer.seekToEnd(i, tps)),
    seekToTimestamp: (timestamp: number, tps?: TopicPartition[]) =>
      call((i) => remote.consumer.seekToTimestamp(i, timestamp, tps)),
    commitOffsets: (offsets: OffsetCommit[]) =>
      call((i) => remote.consumer.commitOffsets(i, offsets)),
    pause: (topics: { topic: string; partitions?: number[] }[]) =>
      call((i) => remote.consumer.pause(i, topics)),
    resume: (topics: { topic: string; partitions?: number[] }[]) =>
      call((i) => remote.consumer.resume(i, topics)),
    assignment: () => call((i) => remote.consumer.assignment(i)),
    async stop(): Promise<void> {
      running = false
      await call((i) => remote.consumer.stop(i))
    },
    async disconnect(): Promise<void> {
      await this.stop()
    },
  }
}

/** Runs the page's handlers over one delivered batch, as the in-process consumer would. */
async function handle(
  run: ConsumerRunConfig,
  delivered: DeliveredBatch,
  resolveOffset: (offset: number) => void,
  isRunning: () => boolean,
): Promise<void> {
  const { topic, partition, messages, highWatermark } = delivered
  const heartbeat = async () => undefined
  const pause = () => () => undefined
  if (run.eachBatch) {
    const batch: Batch = {
      topic,
      partition,
      highWatermark,
      messages,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => messages.at(-1)?.offset ?? highWatermark - 1,
    }
    await run.eachBatch({
      batch,
      resolveOffset,
      heartbeat,
      commitOffsetsIfNecessary: async () => undefined,
      isRunning,
      isStale: () => false,
      pause,
    })
    return
  }
  for (const message of messages) {
    if (!isRunning()) return
    await run.eachMessage!({ topic, partition, message, heartbeat, pause })
    resolveOffset(message.offset)
  }
}
