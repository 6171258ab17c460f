/// <reference lib="webworker" />
import { expose } from 'comlink'
import { KafkaStreams, openLog, StreamsBuilder, type Log } from '../../src/index.ts'
import { idbStorage } from '../../src/idb/index.ts'

// A worker running a word count over its IndexedDB log, to be killed at random moments.
let log: Log | undefined
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
    log = await openLog({ storage: await idbStorage({ name }), cleaner: false })
    await log.admin().createTopics({
      ifNotExists: true,
      topics: [
        { topic: 'lines', numPartitions: 2 },
        { topic: 'word-counts', numPartitions: 2 },
      ],
    })
  },
  async feed(lines: string[]): Promise<void> {
    await log!.producer().send({
      topic: 'lines',
      messages: lines.map((value, i) => ({ value, partition: i % 2, timestamp: 1000 + i })),
    })
  },
  async start(): Promise<void> {
    streams = new KafkaStreams(topology(), log!, {
      applicationId: 'wc',
      maxRecordsPerBatch: 7,
      pollMs: 20,
    })
    await streams.start()
  },
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
