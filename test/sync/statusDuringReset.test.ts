import { expect, test } from 'vitest'
import { memoryStorage, memoryTransport, openLog, Sync } from '../../src/index.ts'

// A reset deletes the replica and creates it again (Sync.rebootstrap); a status asked for in
// between (the page polls it, every tab recomputes it on changes) must say "catching up", not fail.
test('the status while a reset has the replica deleted: not up to date, lag unknown, sends still pending', async () => {
  const server = await openLog({ storage: memoryStorage(), cleaner: false })
  await server.admin().createTopics({ topics: [{ topic: 'payments', numPartitions: 1 }] })
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  const sync = new Sync(log, {
    transport: memoryTransport(server),
    topics: [{ topic: 'payments', numPartitions: 1 }],
  })
  await sync.prepare()
  await sync.producer().send({ topic: 'payments', messages: [{ key: 'a', value: 1 }] })
  // The moment between the reset's delete and its create.
  await log.admin().deleteTopics({ topics: ['payments'] })
  const status = await sync.status()
  expect(status.topics.payments).toMatchObject({ upToDate: false, lag: null, pending: 1 })
  await log.close()
  await server.close()
})
