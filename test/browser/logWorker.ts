/// <reference lib="webworker" />
import { expose } from 'comlink'
import { openLog, type Log, type ProducerMessage } from '../../src/index.ts'
import { idbStorage } from '../../src/storage/idb/index.ts'

// A worker that owns a log in IndexedDB, as an app's worker would; the tests drive it over comlink.
let log: Log | undefined

const api = {
  async open(name: string): Promise<void> {
    log = await openLog({ storage: await idbStorage({ name }), cleaner: false })
  },
  async createTopic(topic: string, numPartitions: number): Promise<void> {
    await log!.admin().createTopics({ topics: [{ topic, numPartitions }], ifNotExists: true })
  },
  async send(topic: string, messages: ProducerMessage[]) {
    return log!.producer().send({ topic, messages })
  },
  /** Fires `count` sends of `size` messages without waiting, so the crash lands mid-stream. */
  sendStream(topic: string, count: number, size: number, tag: string): void {
    const producer = log!.producer()
    for (let i = 0; i < count; i++) {
      const messages = Array.from({ length: size }, (_, j) => ({ value: { tag, send: i, j } }))
      void producer.send({ topic, messages }).then(
        () => postMessage({ acked: i, tag }),
        () => undefined,
      )
    }
  },
  async readAll(topic: string, partition: number) {
    const out: { offset: number; value: unknown }[] = []
    for (let offset = 0; ;) {
      const chunk = await log!.fetch({ topic, partition, offset })
      for (const r of chunk.records) out.push({ offset: r.offset, value: r.value })
      if (chunk.nextOffset === chunk.highWatermark) return out
      offset = chunk.nextOffset
    }
  },
  async sendBad(topic: string) {
    try {
      await log!.producer().send({ topic, messages: [{ value: 1, partition: 99 }] })
      return null
    } catch (error) {
      return { code: (error as { code: string }).code, name: (error as Error).name }
    }
  },
  async close(): Promise<void> {
    await log?.close()
  },
}

export type LogWorkerApi = typeof api
expose(api)
