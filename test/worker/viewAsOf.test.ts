import { afterEach, expect, test } from 'vitest'
import { InvalidArgumentError, memoryStorage } from '../../src/index.ts'
import { changelogView, connect, serve } from '../../src/worker/index.ts'
import { viewAsOf } from '../../src/zustand/index.ts'
import { paymentTotals } from '../support/topologies.ts'
import { until } from '../support/until.ts'

// viewAsOf through serve() and the page client (memory storage, a MessageChannel for the worker
// boundary): the view of the served topology as of offsets and a time, the live one untouched,
// and each kind of bad input a typed error that names it.

const closers: (() => unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

async function boot() {
  const { port1, port2 } = new MessageChannel()
  const served = await serve({
    name: 'view-as-of',
    storage: memoryStorage(),
    endpoint: port1,
    groups: false,
    cleaner: false,
    topics: [{ topic: 'payments' }],
    // A view no topology makes: it cannot be replayed.
    views: [changelogView('elsewhere', 'things')],
    streams: { applicationId: 'app', topology: paymentTotals(), pollMs: 20 },
  })
  const client = connect(port2)
  closers.push(async () => {
    client.close()
    await served.close()
    port1.close()
    port2.close()
  })
  return { served, client }
}

test('viewAsOf replays the served topology to a point; the live store is untouched', async () => {
  const { served, client } = await boot()
  await served.log.producer().send({
    topic: 'payments',
    messages: [
      { key: 'ada', value: 1, timestamp: 10 },
      { key: 'bob', value: 2, timestamp: 20 },
      { key: 'ada', value: 4, timestamp: 30 },
    ],
  })
  const live = served.streams!.store<string, number>('totals')
  await until(() => live.get('ada') === 5)
  const atTwo = await viewAsOf<string, number>(client, 'totals', { offsets: { payments: [2] } })
  expect(atTwo.entries).toEqual([
    { key: 'ada', value: 1, timestamp: 10 },
    { key: 'bob', value: 2, timestamp: 20 },
  ])
  const byTime = await viewAsOf<string, number>(client, 'totals', { timestamp: 29 })
  expect(byTime.offsets).toEqual({ payments: [2] })
  expect(byTime.entries).toEqual(atTwo.entries)
  const all = await viewAsOf<string, number>(client, 'totals', { timestamp: 30 })
  expect(all.entries.map((e) => [e.key, e.value])).toEqual([
    ['ada', 5],
    ['bob', 2],
  ])
  expect(live.all()).toEqual([
    { key: 'ada', value: 5 },
    { key: 'bob', value: 2 },
  ])
})

test('bad input to viewAsOf is an InvalidArgumentError that says what is wrong', async () => {
  const { client } = await boot()
  const cases: [Promise<unknown>, RegExp][] = [
    [viewAsOf(client, 'nope', { timestamp: 1 }), /No view "nope" in this worker/],
    [
      viewAsOf(client, 'things', { timestamp: 1 }),
      /View "things" is not a store of this worker's topology/,
    ],
    [viewAsOf(client, 'totals', { timestamp: -1 }), /timestamp must be a number >= 0, got -1/],
    [
      viewAsOf(client, 'totals', { offsets: { payments: [1] } }),
      /offset 1 of "payments" partition 0 is out of range \(0\.\.0\)/,
    ],
  ]
  for (const [call, message] of cases) {
    await expect(call).rejects.toThrow(InvalidArgumentError)
    await expect(call).rejects.toThrow(message)
  }
})
