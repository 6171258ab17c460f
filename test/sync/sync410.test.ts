import { expect, test } from 'vitest'
import { dumpTopic } from '../support/syncFixtures.ts'
import { until } from '../support/until.ts'
import {
  memoryStorage,
  memoryTransport,
  openLog,
  OffsetOutOfRangeError,
  Sync,
  type SyncTransport,
} from '../../src/index.ts'

const PAYMENTS = { topic: 'payments', numPartitions: 1 }

test('a 410 after a push landed re-copies the replica without pushing the records again', async () => {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  await leader.admin().createTopics({ topics: [PAYMENTS] })
  await leader.producer().send({ topic: 'payments', messages: [{ key: 'x', value: 0 }] })
  const inner = memoryTransport(leader, { pollMs: 30 })
  // One read fails with 410 (e.g. the server's retention moved past the replica's end) right
  // after our first push was committed and acknowledged, before the puller saw it come back.
  let appended = false
  let gone = false
  const transport: SyncTransport = {
    describeTopic: (t, s) => inner.describeTopic(t, s),
    async read(t, p, o, opts) {
      if (o !== 'start' && !gone) {
        await until(() => appended) // the puller's next read happens after our push landed...
        gone = true
        throw new OffsetOutOfRangeError('410 (test)') // ...and the server answers 410
      }
      return inner.read(t, p, o, opts)
    },
    async append(t, p, r, pr, s) {
      const result = await inner.append(t, p, r, pr, s)
      appended = true
      return result
    },
  }
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  const sync = new Sync(log, { transport, topics: [PAYMENTS] })
  await sync.start()
  await until(async () => (await dumpTopic(log, 'payments')).length === 1) // replica has x
  await log.producer().send({ topic: 'payments', messages: [{ key: 'mine', value: 1 }] })
  await until(async () => gone && (await sync.status()).topics.payments!.pending === 0)
  await new Promise((r) => setTimeout(r, 300))
  const onServer = await dumpTopic(leader, 'payments')
  await sync.stop()
  // One send, so one record on the server.
  expect(onServer.filter((r) => r.includes(':mine='))).toHaveLength(1)
})
