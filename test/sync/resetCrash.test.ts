import { expect, test } from 'vitest'
import { dumpTopic } from '../support/syncFixtures.ts'
import { until } from '../support/until.ts'
import {
  MemoryDatabase,
  memoryStorage,
  memoryTransport,
  openLog,
  Sync,
  type SyncTransport,
} from '../../src/index.ts'

const PAYMENTS = { topic: 'payments', numPartitions: 1 }
async function server() {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [PAYMENTS] })
  return log
}

test('a worker killed in the middle of a re-bootstrap redoes it on restart', async () => {
  let leader = await server()
  let current = memoryTransport(leader, { pollMs: 30 })
  const transport: SyncTransport = {
    describeTopic: (t, s) => current.describeTopic(t, s),
    read: (t, p, o, opts) => current.read(t, p, o, opts),
    append: (t, p, r, pr, s) => current.append(t, p, r, pr, s),
  }
  const database = new MemoryDatabase()
  const a = await openLog({ storage: memoryStorage({ database }), cleaner: false })
  const s1 = new Sync(a, { transport, topics: [PAYMENTS] })
  await s1.start()
  for (let i = 0; i < 3; i++)
    await a.producer().send({ topic: 'payments', messages: [{ key: `old${i}`, value: i }] })
  await until(async () => (await dumpTopic(a, 'payments')).length === 3)
  await s1.stop()

  // The server is re-created (new topic id) with other records.
  leader = await server()
  for (let i = 0; i < 5; i++)
    await leader.producer().send({ topic: 'payments', messages: [{ key: `fresh${i}`, value: i }] })
  current = memoryTransport(leader, { pollMs: 30 })

  // The worker dies right after serverWasReset() wrote the new id (simulated: deleteTopics throws).
  const admin = a.admin.bind(a)
  let killed = false
  ;(a as unknown as { admin: () => unknown }).admin = () => {
    const real = admin()
    return new Proxy(real, {
      get(target, prop, recv) {
        if (prop === 'deleteTopics' && !killed) {
          return async () => {
            killed = true
            throw new Error('worker killed (test)')
          }
        }
        const v = Reflect.get(target, prop, recv)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
  }
  const s2 = new Sync(a, { transport, topics: [PAYMENTS] })
  process.once('unhandledRejection', () => undefined) // see the unhandled-rejection finding
  await s2.start()
  await until(() => killed)
  await s2.stop().catch(() => undefined)
  await a.close()

  // Restart on the same database.
  const b = await openLog({ storage: memoryStorage({ database }), cleaner: false })
  const s3 = new Sync(b, { transport, topics: [PAYMENTS] })
  const resets: string[] = []
  s3.subscribe((e) => {
    if (e.type === 'reset') resets.push(e.topic)
  })
  await s3.start()
  await new Promise((r) => setTimeout(r, 500))
  const replica = await dumpTopic(b, 'payments')
  const onServer = await dumpTopic(leader, 'payments')
  await s3.stop().catch(() => undefined)
  expect(replica).toEqual(onServer)
  expect(resets).toEqual(['payments'])
})
