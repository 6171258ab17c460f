import { expect, test } from 'vitest'
import { KafkaStreams, memoryStorage, openLog, StreamsBuilder } from '../../src/index.ts'
import { InvalidArgumentError } from '../../src/log/errors.ts'

async function until(check: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error('timed out')
}

// KIP-353 / KIP-695 (max.task.idle.ms): a stream-table join's task waits for its empty table
// input before joining, so a rate with an earlier timestamp that arrives meanwhile is in the
// table when the payment is joined; past the idle time, the payment is joined anyway.
test('a stream-table join waits max.task.idle.ms for its table, by the log clock', async () => {
  let now = 0
  const log = await openLog({ storage: memoryStorage(), cleaner: false, clock: () => now })
  await log.admin().createTopics({
    topics: [{ topic: 'payments' }, { topic: 'rates' }, { topic: 'converted' }],
  })
  const builder = new StreamsBuilder()
  const rates = builder.table<string, number>('rates', { materialized: 'rates' })
  builder
    .stream<string, number>('payments')
    .join(rates, (amount, rate) => amount * rate)
    .to('converted')
  const send = (topic: string, value: number, timestamp: number) =>
    log.producer().send({ topic, messages: [{ key: 'EUR', value, timestamp }] })
  await send('rates', 1, 10)
  await send('payments', 100, 100)
  const streams = new KafkaStreams(builder.build(), log, {
    applicationId: 'fx',
    maxTaskIdleMs: 60_000,
    pollMs: 5,
  })
  await streams.start()
  // The rate at 10 goes first; then the table input is empty, and the payment waits for it.
  await until(() => streams.store<string, number>('rates').get('EUR') === 1)
  await send('rates', 2, 50) // earlier than the payment: joined before it
  await until(() => streams.store<string, number>('rates').get('EUR') === 2)
  const converted = async () => await log.fetch({ topic: 'converted', partition: 0, offset: 0 })
  expect((await converted()).records).toEqual([])
  now = 60_000 // the table input's deadline (0 + 60 s): the payment is processed without it
  await until(async () => (await converted()).records.length > 0)
  expect((await converted()).records.map((r) => [r.value, r.timestamp])).toEqual([[200, 100]])
  await streams.close()
  await log.close()
})

test('maxTaskIdleMs must be -1 or a whole number of ms >= 0', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  const topology = new StreamsBuilder().build()
  for (const bad of [-2, 1.5, Number.NaN])
    expect(
      () => new KafkaStreams(topology, log, { applicationId: 'a', maxTaskIdleMs: bad }),
    ).toThrow(InvalidArgumentError)
  await log.close()
})
