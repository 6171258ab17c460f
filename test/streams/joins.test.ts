import { describe, expect, test } from 'vitest'
import { JoinWindows, KeyValue, StreamsBuilder, type KStream } from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'

const pair = (l: unknown, r: unknown) => `${String(l ?? '-')}${String(r ?? '-')}`
const kv = (list: { key: unknown; value: unknown }[]) =>
  list.map((x) => `${String(x.key)}=${String(x.value)}`)

describe('KStream-KTable', () => {
  for (const kind of ['join', 'leftJoin'] as const) {
    test(`${kind}: stream records look the table up; table updates emit nothing`, () => {
      const builder = new StreamsBuilder()
      const table = builder.table<string, string>('rates')
      const stream = builder.stream<string, number>('payments')
      ;(kind === 'join' ? stream.join(table, pair) : stream.leftJoin(table, pair)).to('out')
      const driver = new TopologyTestDriver(builder.build())
      const rates = driver.createInputTopic<string, string | null>('rates')
      const payments = driver.createInputTopic<string, number>('payments')
      payments.pipeInput('eur', 1, 1) // no rate yet
      rates.pipeInput('eur', 'r1', 2)
      payments.pipeInput('eur', 2, 3)
      rates.pipeInput('eur', 'r2', 4)
      payments.pipeInput('eur', 3, 5)
      rates.pipeInput('eur', null, 6)
      payments.pipeInput('eur', 4, 7)
      const out = kv(driver.createOutputTopic('out').readKeyValuesToList())
      expect(out).toEqual(
        kind === 'join' ? ['eur=2r1', 'eur=3r2'] : ['eur=1-', 'eur=2r1', 'eur=3r2', 'eur=4-'],
      )
    })
  }

  test('a GlobalKTable joins on a key the stream selects', () => {
    const builder = new StreamsBuilder()
    const merchants = builder.globalTable<string, string>('merchants')
    builder
      .stream<string, { merchant: string; amount: number }>('payments')
      .join(
        merchants,
        (_user, p) => p.merchant,
        (p, category) => `${p.amount}@${category}`,
      )
      .to('out')
    const driver = new TopologyTestDriver(builder.build())
    driver.createInputTopic<string, string>('merchants').pipeInput('m1', 'food', 1)
    const payments = driver.createInputTopic<string, { merchant: string; amount: number }>(
      'payments',
    )
    payments.pipeInput('ada', { merchant: 'm1', amount: 3 }, 2)
    payments.pipeInput('ada', { merchant: 'm2', amount: 4 }, 3)
    expect(kv(driver.createOutputTopic('out').readKeyValuesToList())).toEqual(['ada=3@food'])
  })
})

describe('KTable-KTable', () => {
  // One sequence through all three joins: L a=1, R a=x, L a=2, R a=null, L a=null, R b=y.
  const expected = {
    join: ['a=1x', 'a=2x', 'a=null'],
    leftJoin: ['a=1-', 'a=1x', 'a=2x', 'a=2-', 'a=null'],
    outerJoin: ['a=1-', 'a=1x', 'a=2x', 'a=2-', 'a=null', 'b=-y'],
  }
  for (const kind of ['join', 'leftJoin', 'outerJoin'] as const) {
    test(`${kind}: updates on either side recompute the row; rows that stop joining get tombstones`, () => {
      const builder = new StreamsBuilder()
      const left = builder.table<string, number>('left')
      const right = builder.table<string, string>('right')
      left[kind](right, pair, { materialized: 'joined' }).toStream().to('out')
      const driver = new TopologyTestDriver(builder.build())
      const l = driver.createInputTopic<string, number | null>('left')
      const r = driver.createInputTopic<string, string | null>('right')
      l.pipeInput('a', 1, 1)
      r.pipeInput('a', 'x', 2)
      l.pipeInput('a', 2, 3)
      r.pipeInput('a', null, 4)
      l.pipeInput('a', null, 5)
      r.pipeInput('b', 'y', 6)
      expect(kv(driver.createOutputTopic('out').readKeyValuesToList())).toEqual(expected[kind])
      const rows = driver.getKeyValueStore('joined').all()
      expect(kv(rows)).toEqual(kind === 'outerJoin' ? ['b=-y'] : [])
    })
  }
})

describe('KStream-KStream (windowed)', () => {
  // L1@0 and R1@5 join (within 10); L2@20 never finds a partner; R2@100 closes L2's window;
  // L@50 arrives after 50 + 10 + 0 < 100: late; R3@200 (another key) closes R2's window.
  const expected = {
    join: ['k=L1R1@5'],
    leftJoin: ['k=L1R1@5', 'k=L2-@20'],
    outerJoin: ['k=L1R1@5', 'k=L2-@20', 'k=-R2@100'],
  }
  for (const kind of ['join', 'leftJoin', 'outerJoin'] as const) {
    test(`${kind}: unmatched records come out only after their window closes; late ones are dropped`, () => {
      const builder = new StreamsBuilder()
      const left = builder.stream<string, string>('left')
      const right = builder.stream<string, string>('right')
      const windows = JoinWindows.ofTimeDifferenceAndGrace(10, 0)
      const joined: KStream<string, string> =
        kind === 'outerJoin'
          ? left.outerJoin(right, pair, windows)
          : kind === 'leftJoin'
            ? left.leftJoin(right, pair, windows)
            : left.join(right, pair, windows)
      joined.to('out')
      const driver = new TopologyTestDriver(builder.build())
      const l = driver.createInputTopic<string, string>('left')
      const r = driver.createInputTopic<string, string>('right')
      const out = driver.createOutputTopic<string, string>('out')
      const read = () => out.readRecordsToList().map((x) => `${x.key}=${x.value}@${x.timestamp}`)
      l.pipeInput('k', 'L1', 0)
      r.pipeInput('k', 'R1', 5)
      l.pipeInput('k', 'L2', 20)
      expect(read()).toEqual(['k=L1R1@5'])
      r.pipeInput('k', 'R2', 100)
      l.pipeInput('k', 'late', 50)
      r.pipeInput('j', 'R3', 200)
      expect(['k=L1R1@5', ...read()]).toEqual(expected[kind])
      expect(driver.droppedRecords().total).toBe(1)
    })
  }

  test('a record joins every partner within the window, in both directions', () => {
    const builder = new StreamsBuilder()
    builder
      .stream<string, string>('a')
      .join(builder.stream<string, string>('b'), pair, JoinWindows.ofTimeDifferenceWithNoGrace(5))
      .to('out')
    const driver = new TopologyTestDriver(builder.build())
    const a = driver.createInputTopic<string, string>('a')
    const b = driver.createInputTopic<string, string>('b')
    b.pipeInput('k', 'b1', 10)
    b.pipeInput('k', 'b2', 14)
    a.pipeInput('k', 'a1', 12) // joins b1 and b2
    b.pipeInput('k', 'b3', 17) // joins a1 (12 within 5 of 17)
    b.pipeInput('k', 'b4', 18) // 18 - 12 > 5: no join
    expect(driver.createOutputTopic<string, string>('out').readValue()).toBe('a1b1')
    expect(
      driver
        .createOutputTopic<string, string>('out')
        .readKeyValuesToList()
        .map((x) => x.value),
    ).toEqual(['a1b2', 'a1b3'])
  })
})

test('joins compose with the rest of the DSL (KeyValue-mapped streams into a table join)', () => {
  const builder = new StreamsBuilder()
  const totals = builder
    .stream<string, number>('spend')
    .groupByKey()
    .reduce((a, b) => a + b)
  const limits = builder.table<string, number>('limits')
  totals
    .join(limits, (spent, limit) => spent > limit)
    .toStream()
    .map((user, over) => KeyValue.pair(user, over ? 'over' : 'ok'))
    .to('alerts')
  const driver = new TopologyTestDriver(builder.build())
  driver.createInputTopic<string, number>('limits').pipeInput('ada', 10, 1)
  const spend = driver.createInputTopic<string, number>('spend')
  spend.pipeInput('ada', 6, 2)
  spend.pipeInput('ada', 6, 3)
  expect(kv(driver.createOutputTopic('alerts').readKeyValuesToList())).toEqual([
    'ada=ok',
    'ada=over',
  ])
})

describe('KTable-KTable foreign-key join', () => {
  for (const kind of ['inner', 'left'] as const) {
    test(`${kind}: rows follow their foreign key; updates of the target re-join every row pointing at it`, () => {
      const builder = new StreamsBuilder()
      const orders = builder.table<string, { product: string; qty: number }>('orders')
      const products = builder.table<string, string>('products')
      orders
        .joinOnForeignKey(
          products,
          (o) => o.product,
          (o, name) => `${o.qty}x${String(name ?? '?')}`,
          {
            kind,
            materialized: 'order-lines',
          },
        )
        .toStream()
        .to('out')
      const driver = new TopologyTestDriver(builder.build())
      const o = driver.createInputTopic<string, { product: string; qty: number } | null>('orders')
      const p = driver.createInputTopic<string, string | null>('products')
      o.pipeInput('o1', { product: 'p1', qty: 2 }, 1) // p1 unknown yet
      p.pipeInput('p1', 'pen', 2) // re-joins o1
      o.pipeInput('o2', { product: 'p1', qty: 5 }, 3)
      p.pipeInput('p1', 'fountain pen', 4) // re-joins o1 and o2
      o.pipeInput('o1', { product: 'p2', qty: 2 }, 5) // moves to a missing product
      p.pipeInput('p1', null, 6) // o2's product is deleted
      o.pipeInput('o2', null, 7) // o2 is deleted
      const out = kv(driver.createOutputTopic('out').readKeyValuesToList())
      expect(out).toEqual(
        kind === 'inner'
          ? // The last tombstone repeats the one before: a changed left row always sends one (Kafka).
            [
              'o1=2xpen',
              'o2=5xpen',
              'o1=2xfountain pen',
              'o2=5xfountain pen',
              'o1=null',
              'o2=null',
              'o2=null',
            ]
          : [
              'o1=2x?',
              'o1=2xpen',
              'o2=5xpen',
              'o1=2xfountain pen',
              'o2=5xfountain pen',
              'o1=2x?',
              'o2=5x?',
              'o2=null',
            ],
      )
      expect(kv(driver.getKeyValueStore('order-lines').all())).toEqual(
        kind === 'inner' ? [] : ['o1=2x?'],
      )
    })
  }
})

test('KIP-962: a null-key record passes a stream-table left join with null, and is dropped by an inner one', () => {
  const builder = new StreamsBuilder()
  const clicks = builder.stream<string | null, string>('clicks')
  // Typed with the stream's key type: a null key simply never matches a table row.
  const users = builder.table<string | null, string>('users')
  clicks.leftJoin(users, (c, u) => `${c}/${String(u)}`).to('left')
  clicks.join(users, (c, u) => `${c}/${u}`).to('inner')
  const driver = new TopologyTestDriver(builder.build())
  driver.createInputTopic<string, string>('users').pipeInput('u1', 'ann', 1)
  const input = driver.createInputTopic<string | null, string>('clicks')
  input.pipeInput(null, 'anonymous', 2)
  input.pipeInput('u1', 'known', 3)
  const values = (topic: string) =>
    driver
      .createOutputTopic(topic)
      .readKeyValuesToList()
      .map((kv) => kv.value)
  expect(values('left')).toEqual(['anonymous/null', 'known/ann'])
  expect(values('inner')).toEqual(['known/ann'])
})
