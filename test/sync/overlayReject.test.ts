import { afterEach, expect, test } from 'vitest'
import { memoryStorage, memoryTransport, openLog, type SyncTransport } from '../../src/index.ts'
import { createSyncStore, createViewStore, type ViewStore } from '../../src/zustand/index.ts'
import { syncedWorker } from '../support/syncFixtures.ts'
import { until } from '../support/until.ts'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})
const PAYMENTS = { topic: 'payments', numPartitions: 1 }

test('a refused record that was the last pending one stops showing as pending', async () => {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  await leader.admin().createTopics({
    topics: [{ ...PAYMENTS, configEntries: [{ name: 'max.message.bytes', value: '300' }] }],
  })
  closers.push(() => leader.close())
  // The server sees the big record only once the view shows it as pending: otherwise the refusal
  // could come before the first overlay, the view would never show it pending, and the test
  // would pass whether or not a refusal clears the overlay.
  const inner = memoryTransport(leader, { pollMs: 50 })
  let view: ViewStore<string, number> | null = null
  let shownPending = false
  const transport: SyncTransport = {
    describeTopic: (t, s) => inner.describeTopic(t, s),
    read: (t, p, o, opts) => inner.read(t, p, o, opts),
    async append(t, p, r, pr, s) {
      if (!shownPending) {
        await until(() => view?.getState().isPending('bob') === true)
        shownPending = true
      }
      return inner.append(t, p, r, pr, s)
    },
  }
  const worker = await syncedWorker({ name: 'r', transport, payments: PAYMENTS })
  closers.push(() => worker.close())
  const client = worker.client
  const balances = createViewStore<string, number>(client, 'balances')
  view = balances
  const sync = createSyncStore(client)
  closers.push(() => balances.close())
  closers.push(() => sync.close())
  await balances.ready
  await sync.ready
  const notices: unknown[] = []
  sync.onNotice((n) => notices.push(n))
  await client.producer().send({
    topic: 'payments',
    messages: [{ key: 'big', value: { user: 'bob', amount: 1, note: 'x'.repeat(500) } }],
  })
  await until(() => notices.length === 1)
  expect(shownPending).toBe(true)
  await until(() => sync.getState()?.topics.payments?.pending === 0)
  // The view showed bob pending and nothing was appended since the refusal (it only moved the
  // outbox's pushed and rejected marks): only a recompute of the overlay after the refusal can
  // take bob off, and the view keeps showing the last overlay until then. Waiting for it is not
  // a negative check: a view that is never told stays pending, and this times out.
  await until(() => !balances.getState().isPending('bob'))
  expect(balances.getState().get('bob')).toBeUndefined()
  expect(notices).toMatchObject([{ type: 'rejected', topic: 'payments', partition: 0, offset: 0 }])
}, 15_000) // room for the waits above to fail with their own message
