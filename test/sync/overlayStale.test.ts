import { afterEach, expect, test } from 'vitest'
import {
  KafkaStreams,
  MemoryDatabase,
  memoryStorage,
  memoryTransport,
  NetworkError,
  openLog,
  StreamsBuilder,
  Sync,
  type SyncTransport,
} from '../../src/index.ts'
import { connect, serve } from '../../src/worker/index.ts'
import { createViewStore } from '../../src/zustand/index.ts'
import { until } from '../support/until.ts'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})
const PAYMENTS = { topic: 'payments', numPartitions: 1 }
const topology = () => {
  const builder = new StreamsBuilder()
  builder
    .stream<string, { user: string; amount: number }>('payments')
    .groupBy((_k, p) => p.user)
    .aggregate(
      () => 0,
      (_u, p, t) => t + p.amount,
      { materialized: 'balances' },
    )
  return builder.build()
}

test('an overlay written before a crash is cleared by the next instance when nothing is pending', async () => {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  await leader.admin().createTopics({ topics: [PAYMENTS] })
  const net = { online: false }
  const inner = memoryTransport(leader, { pollMs: 30 })
  const gate = () => {
    if (!net.online) throw new NetworkError('offline (test)')
  }
  const transport: SyncTransport = {
    describeTopic: async (t, s) => (gate(), inner.describeTopic(t, s)),
    read: async (t, p, o, opts) => (gate(), inner.read(t, p, o, opts)),
    append: async (t, p, r, pr, s) => (gate(), inner.append(t, p, r, pr, s)),
  }
  const database = new MemoryDatabase()
  const open = async () => {
    const { port1, port2 } = new MessageChannel()
    const served = await serve({
      name: 'stale',
      storage: memoryStorage({ database }),
      endpoint: port1,
      groups: false,
      cleaner: false,
      topics: [PAYMENTS],
      streams: { applicationId: 'app', topology: topology(), pollMs: 20 },
      sync: { topics: ['payments'], transport },
    })
    const client = connect(port2)
    const balances = createViewStore<string, number>(client, 'balances')
    await balances.ready
    return {
      served,
      client,
      balances,
      close: async () => {
        balances.close()
        client.close()
        await served.close()
        port1.close()
        port2.close()
      },
    }
  }
  // 1. Offline: a send shows as pending, the overlay record is written.
  const first = await open()
  await first.client
    .producer()
    .send({ topic: 'payments', messages: [{ key: 'p1', value: { user: 'ada', amount: 30 } }] })
  await until(() => first.balances.getState().isPending('ada'))
  await first.close()
  // 2. The instance that pushes, confirms and processes it dies before its overlay write
  //    (simulated: the same work without a PendingOverlay).
  net.online = true
  const log = await openLog({ storage: memoryStorage({ database }), cleaner: false })
  const sync = new Sync(log, { transport, topics: [PAYMENTS] })
  await sync.start()
  const streams = new KafkaStreams(topology(), log, { applicationId: 'app', pollMs: 20 })
  await streams.start()
  await until(async () => streams.store('balances').get('ada') === 30)
  await streams.close()
  await sync.stop()
  await log.close()
  // 3. The next instance: nothing is pending, its first overlay is empty.
  const second = await open()
  closers.push(second.close)
  await until(() => second.balances.getState().confirmed.get('ada') === 30)
  await new Promise((r) => setTimeout(r, 500))
  expect(second.balances.getState().isPending('ada')).toBe(false)
})
