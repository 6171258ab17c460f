import { connect } from '../../../src/worker/index.ts'
import {
  createSyncStore,
  createViewStore,
  type SyncStore,
  type ViewStore,
} from '../../../src/zustand/index.ts'

// A tab that syncs with the server in `?server=`; the test drives it through window.
declare global {
  interface Window {
    send: (count: number) => Promise<void>
    sendMessages: (messages: { key: string | null; value: unknown }[]) => Promise<void>
    sync: SyncStore
    counts: ViewStore<string, number>
    ready: boolean
  }
}

const params = new URL(location.href).searchParams
const worker = new Worker(new URL('./sync.worker.ts', import.meta.url), {
  type: 'module',
  name: [
    params.get('db') ?? 'sync',
    params.get('server') ?? 'http://127.0.0.1:9',
    params.get('token'),
  ]
    .filter((part) => part !== null)
    .join('|'),
})
const client = connect(worker)
window.sync = createSyncStore(client)
window.counts = createViewStore<string, number>(client, 'counts')
window.send = async (count) => {
  const producer = client.producer()
  for (let i = 0; i < count; i += 100) {
    await producer.send({
      topic: 'payments',
      messages: Array.from({ length: Math.min(100, count - i) }, (_, j) => ({
        key: `user${(i + j) % 7}`,
        value: i + j,
      })),
    })
  }
}
window.sendMessages = async (messages) => {
  await client.producer().send({ topic: 'payments', messages })
}
await window.sync.ready
await window.counts.ready
window.ready = true
