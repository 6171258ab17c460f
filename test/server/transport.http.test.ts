import { httpTransport, type TopicSpec } from '../../src/index.ts'
import { transportContract } from '../contract/transportContract.ts'
import { startTestServer } from './support/testServer.ts'

// The sync transport over real HTTP against duality's server (SQLite on a temp file).
transportContract(async () => {
  const server = await startTestServer({ longPollTimeoutMs: 2_000 })
  server.clock.now = 0
  const admin = (topic: string, init: RequestInit = {}) =>
    fetch(`${server.url}/admin/topics/${topic}`, init)
  return {
    transport: httpTransport({ url: server.url }),
    async createTopic(spec: TopicSpec) {
      const res = await admin(spec.topic, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          numPartitions: spec.numPartitions,
          configEntries: spec.configEntries,
        }),
      })
      if (!res.ok) throw new Error(`create ${spec.topic}: ${res.status} ${await res.text()}`)
    },
    async deleteTopic(topic) {
      const res = await admin(topic, { method: 'DELETE' })
      if (!res.ok) throw new Error(`delete ${topic}: ${res.status}`)
    },
    close: () => server.stop(),
  }
})
