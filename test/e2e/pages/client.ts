import { connect, type Client, type ClientConsumer } from '../../../src/worker/index.ts'

// A tab as an app has it: its own worker over the shared database, and the client to it.
declare global {
  interface Window {
    client: Client
    received: { partition: number; offset: number; value: unknown; at: number }[]
    /** Joins a group; `maxWaitTimeInMs` is how long each fetch long-polls (default 5 s). */
    join(groupId: string, topic: string, maxWaitTimeInMs?: number): Promise<void>
    assignment(): Promise<number[]>
    ready: boolean
  }
}

const db = new URL(location.href).searchParams.get('db') ?? 'e2e'
const worker = new Worker(new URL('../../../worker/duality.worker.ts', import.meta.url), {
  type: 'module',
  name: db,
})
window.client = connect(worker)
window.received = []
let consumer: ClientConsumer | undefined
window.join = async (groupId, topic, maxWaitTimeInMs = 5000) => {
  consumer = window.client.consumer({ groupId, maxWaitTimeInMs })
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      window.received.push({
        partition,
        offset: message.offset,
        value: message.value,
        at: performance.timeOrigin + performance.now(),
      })
    },
  })
}
window.assignment = async () =>
  consumer ? (await consumer.assignment()).map((a) => a.partition) : []
window.ready = true
