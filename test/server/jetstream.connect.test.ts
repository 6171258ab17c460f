import { afterAll, beforeAll, expect, test } from 'vitest'
import { JetStreamEngine } from '../../src/server/engines/jetstream/JetStreamEngine.ts'
import { startNatsServer, type NatsServer } from './support/natsServer.ts'

let nats: NatsServer

beforeAll(async () => {
  nats = await startNatsServer()
})

afterAll(async () => {
  await nats?.stop()
})

// Servers of one deployment start together over a JetStream that has no bucket yet: each one's
// create races the others' (JetStream refused the losers with "subjects overlap"), and every
// one must come up over the one bucket. (Seen once in CI under load, in jetstream.topics' two
// servers; not reproduced in isolation, so this guards the behaviour more than it forces the race.)
test('servers started at once over a fresh JetStream all connect to one metadata bucket', async () => {
  const bucket = `race_${Date.now()}`
  const engines = await Promise.all(
    Array.from({ length: 8 }, () => JetStreamEngine.connect({ servers: nats.url, bucket })),
  )
  try {
    expect(engines).toHaveLength(8)
  } finally {
    await Promise.all(engines.map((e) => e.close()))
  }
})
