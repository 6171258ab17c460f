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
  const resets: string[] = []
  sync.subscribe((e) => {
    if (e.type === 'reset') resets.push(e.topic)
  })
  await sync.start()
  await until(async () => (await dumpTopic(log, 'payments')).length === 1) // replica has x
  await sync.producer().send({ topic: 'payments', messages: [{ key: 'mine', value: 1 }] })
  // The 410 was answered and the replica copied again.
  await until(
    async () => resets.length === 1 && (await sync.status()).topics.payments!.pending === 0,
  )
  // A second push of 'mine' (outbox offset 0) would come from the pusher of the round after the
  // re-copy, which pushes the outbox in order: a record sent now (outbox offset 1) reaches the
  // server in the same batch as such a push or after it. So once 'later' is on the server, any
  // second 'mine' would be there too.
  await sync.producer().send({ topic: 'payments', messages: [{ key: 'later', value: 2 }] })
  await until(async () => (await dumpTopic(leader, 'payments')).some((r) => r.includes(':later=')))
  const onServer = await dumpTopic(leader, 'payments')
  await sync.stop()
  // One send, so one record on the server, before the later one.
  expect(onServer.map((r) => r.replace(/=.*/, ''))).toEqual(['0:x', '1:mine', '2:later'])
  expect(resets).toEqual(['payments'])
  await log.close()
  await leader.close()
})
