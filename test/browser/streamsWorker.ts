/// <reference lib="webworker" />
import { expose } from 'comlink'
import { KafkaStreams, openLog, StreamsBuilder, type Log } from '../../src/index.ts'
import { idbStorage } from '../../src/storage/idb/index.ts'
import { lockMembership } from '../../src/worker/index.ts'

// A worker running a word count over its IndexedDB log, to be killed at random moments.
let log: Log | undefined
let dbName = ''
let streams: KafkaStreams | undefined

function topology() {
  const builder = new StreamsBuilder()
  builder
    .stream<string | null, string>('lines')
    .flatMapValues((line) => line.split(' '))
    .groupBy((_, word) => word)
    .count({ materialized: 'counts' })
    .toStream()
    .to('word-counts')
  return builder.build()
}

const api = {
  async open(name: string): Promise<void> {
    dbName = name
    log = await openLog({ storage: await idbStorage({ name }), cleaner: false })
    await log.admin().createTopics({
      ifNotExists: true,
      topics: [
        { topic: 'lines', numPartitions: 2 },
        { topic: 'word-counts', numPartitions: 2 },
      ],
    })
  },
  /** Line i goes to partition i % 2 with timestamp 1000 + i, however the lines are split up. */
  async feed(lines: string[], from = 0): Promise<void> {
    await log!.producer().send({
      topic: 'lines',
      messages: lines.map((value, j) => {
        const i = from + j
        return { value, partition: i % 2, timestamp: 1000 + i }
      }),
    })
  },
  /** With `group`, the instances in all workers form one group over Web Locks. */
  async start(group = false): Promise<void> {
    streams = new KafkaStreams(topology(), log!, {
      applicationId: 'wc',
      maxRecordsPerBatch: 7,
      pollMs: 20,
      ...(group ? { membership: lockMembership(dbName, { pollMs: 50 }) } : {}),
    })
    await streams.start()
  },
  state: () => streams?.currentState ?? 'CREATED',
  /** True once every input record has been processed and committed. */
  async caughtUp(): Promise<boolean> {
    const [committed] = await log!.admin().fetchOffsets({ groupId: 'wc', topics: ['lines'] })
    const highs = await log!.admin().fetchTopicOffsets('lines')
    return committed!.partitions.every(
      (p) => p.offset === highs.find((h) => h.partition === p.partition)!.high,
    )
  },
  async read(topic: string): Promise<string[]> {
    const out: string[] = []
    for (const { partition, high } of await log!.admin().fetchTopicOffsets(topic)) {
      for (let offset = 0; offset < high;) {
        const chunk = await log!.fetch({ topic, partition, offset })
        for (const r of chunk.records)
          out.push(`${partition}@${r.offset}:${String(r.key)}=${String(r.value)}`)
        offset = chunk.nextOffset
      }
    }
    return out
  },
  counts: () => streams!.store<string, number>('counts').all(),
}

export type StreamsWorkerApi = typeof api
expose(api)
