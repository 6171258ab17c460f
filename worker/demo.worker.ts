/// <reference lib="webworker" />
// The demo's worker: the log lives here, in IndexedDB, off the main thread. A thin entry over the
// library; the page talks to it through comlink (the full worker runtime, with serve() and
// connect(), multi-tab coordination and consumer groups, is the worker issue's work).
import { expose } from 'comlink'
import { openLog, type CleanReport, type Log } from '../src/index.ts'
import { idbStorage } from '../src/idb/index.ts'

let opening: Promise<Log> | undefined
const log = () =>
  (opening ??= idbStorage({ name: 'duality-demo' }).then((storage) => openLog({ storage })))

const api = {
  async ensureTopics(): Promise<void> {
    await (await log()).admin().createTopics({
      ifNotExists: true,
      topics: [
        { topic: 'payments', numPartitions: 3 },
        {
          topic: 'last-payment',
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.records', value: '20' },
          ],
        },
      ],
    })
  },
  async pay(payment: { user: string; amount: number; merchant: string }) {
    const l = await log()
    // One sendBatch: the payment and the user's latest-payment record go in together or not at all.
    return l.producer().sendBatch({
      topicMessages: [
        { topic: 'payments', messages: [{ key: payment.user, value: payment }] },
        { topic: 'last-payment', messages: [{ key: payment.user, value: payment }] },
      ],
    })
  },
  async overview() {
    const l = await log()
    const admin = l.admin()
    const topics = await admin.listTopics()
    return Promise.all(
      topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) })),
    )
  },
  async read(topic: string, partition: number, offset: number) {
    return (await log()).fetch({ topic, partition, offset, maxRecords: 50 })
  },
  async compact(): Promise<CleanReport[]> {
    return (await log()).cleaner.run({ force: true })
  },
}

export type DemoWorkerApi = typeof api
expose(api)
