import { describe, expect, test } from 'vitest'
import {
  InvalidArgumentError,
  Joined,
  Materialized,
  StreamsBuilder,
  Stores,
} from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'

// Stream-table joins over versioned tables: KIP-914 (a stream record joins the table as of its
// own timestamp; out-of-order table updates are not forwarded) and KIP-923 (Joined.withGracePeriod:
// the stream side waits for the grace period, then joins in timestamp order). Scenarios from
// Kafka's KStreamKTableJoinTest (shouldDelayJoinByGracePeriod, shouldHandleLateJoinsWithGracePeriod,
// shouldFailIfTableIsNotVersioned, shouldFailIfGracePeriodIsLongerThanHistoryRetention) and
// KTableSourceTest / VersionedKeyValueStoreIntegrationTest (out-of-order updates).

const pair = (l: unknown, r: unknown) => `${String(l ?? '-')}+${String(r ?? '-')}`
const out = (driver: TopologyTestDriver) =>
  driver
    .createOutputTopic<string, string>('out')
    .readRecordsToList()
    .map((r) => `${r.key}=${r.value}@${r.timestamp}`)

function topology(options: { kind?: 'join' | 'leftJoin'; history?: number; joined?: Joined } = {}) {
  const builder = new StreamsBuilder()
  const table = builder.table<string, string>('rates', {
    materialized: Materialized.as(
      Stores.persistentVersionedKeyValueStore('rates-store', options.history ?? 1_000),
    ),
  })
  const stream = builder.stream<string, string>('payments')
  const joined =
    options.kind === 'leftJoin'
      ? stream.leftJoin(table, pair, options.joined)
      : stream.join(table, pair, options.joined)
  joined.to('out')
  const driver = new TopologyTestDriver(builder.build())
  return {
    driver,
    rates: driver.createInputTopic<string, string | null>('rates'),
    payments: driver.createInputTopic<string, string>('payments'),
  }
}

describe('stream-table join over a versioned table (KIP-914)', () => {
  for (const kind of ['join', 'leftJoin'] as const) {
    test(`${kind}: a stream record meets the table value as of its own timestamp`, () => {
      const { driver, rates, payments } = topology({ kind })
      rates.pipeInput('eur', 'r10', 10)
      rates.pipeInput('eur', 'r20', 20)
      payments.pipeInput('eur', 'p15', 15) // older than the latest rate: meets r10
      payments.pipeInput('eur', 'p25', 25)
      payments.pipeInput('eur', 'p5', 5) // before any rate
      rates.pipeInput('eur', 'r12', 12) // out of order: into the history
      payments.pipeInput('eur', 'p13', 13)
      rates.pipeInput('eur', null, 30) // a delete is a version too
      payments.pipeInput('eur', 'p31', 31)
      payments.pipeInput('eur', 'p29', 29)
      expect(out(driver)).toEqual(
        kind === 'join'
          ? ['eur=p15+r10@15', 'eur=p25+r20@25', 'eur=p13+r12@13', 'eur=p29+r20@29']
          : [
              'eur=p15+r10@15',
              'eur=p25+r20@25',
              'eur=p5+-@5',
              'eur=p13+r12@13',
              'eur=p31+-@31',
              'eur=p29+r20@29',
            ],
      )
    })
  }

  test('a stream record older than the table history finds nothing (the history retention bounds as-of reads)', () => {
    const { driver, rates, payments } = topology({ kind: 'leftJoin', history: 100 })
    rates.pipeInput('eur', 'r0', 0)
    rates.pipeInput('usd', 'u500', 500) // the store's stream time moves to 500
    payments.pipeInput('eur', 'p450', 450)
    payments.pipeInput('eur', 'p350', 350) // further back than 500 - 100
    expect(out(driver)).toEqual(['eur=p450+r0@450', 'eur=p350+-@350'])
  })

  test('out-of-order table updates go into the history but are not forwarded downstream', () => {
    const builder = new StreamsBuilder()
    builder
      .table<string, string>('rates', {
        materialized: Materialized.as(Stores.persistentVersionedKeyValueStore('v', 1_000)),
      })
      .toStream()
      .to('out')
    const driver = new TopologyTestDriver(builder.build())
    const rates = driver.createInputTopic<string, string>('rates')
    rates.pipeInput('eur', 'r10', 10)
    rates.pipeInput('eur', 'r5', 5) // out of order
    rates.pipeInput('eur', 'r10b', 10) // same time as the latest: replaces it, is the latest
    rates.pipeInput('eur', 'r20', 20)
    expect(out(driver)).toEqual(['eur=r10@10', 'eur=r10b@10', 'eur=r20@20'])
    const store = driver.getVersionedKeyValueStore<string, string>('v')
    expect(store.get('eur', 7)).toEqual({ value: 'r5', timestamp: 5, validTo: 10 })
    expect(store.get('eur')).toEqual({ value: 'r20', timestamp: 20 })
  })

  test('an update older than the history retention is dropped and counted', () => {
    const builder = new StreamsBuilder()
    builder
      .table<string, string>('rates', {
        materialized: Materialized.as(Stores.persistentVersionedKeyValueStore('v', 10)),
      })
      .toStream()
      .to('out')
    const driver = new TopologyTestDriver(builder.build())
    const rates = driver.createInputTopic<string, string>('rates')
    rates.pipeInput('eur', 'r100', 100)
    rates.pipeInput('eur', 'r50', 50)
    expect(driver.getVersionedKeyValueStore('v').get('eur', 60)).toBeNull()
    expect(driver.droppedRecords().total).toBe(1)
  })
})

describe('Joined.withGracePeriod (KIP-923)', () => {
  test('shouldDelayJoinByGracePeriod: stream records wait until stream time passes them by the grace period', () => {
    const { driver, rates, payments } = topology({ joined: Joined.withGracePeriod(10) })
    rates.pipeInput('eur', 'r0', 0)
    payments.pipeInput('eur', 'p1', 1)
    payments.pipeInput('eur', 'p5', 5)
    expect(out(driver)).toEqual([]) // stream time 5: nothing has waited 10 yet
    payments.pipeInput('eur', 'p11', 11) // releases p1
    expect(out(driver)).toEqual(['eur=p1+r0@1'])
    payments.pipeInput('eur', 'p20', 20) // releases p5 (20 - 10 >= 5), not p11
    expect(out(driver)).toEqual(['eur=p5+r0@5'])
    payments.pipeInput('eur', 'p21', 21)
    expect(out(driver)).toEqual(['eur=p11+r0@11'])
  })

  test('shouldHandleLateJoinsWithGracePeriod: a table update arriving after a stream record it predates still meets it', () => {
    const { driver, rates, payments } = topology({ joined: Joined.withGracePeriod(10) })
    rates.pipeInput('eur', 'r0', 0)
    payments.pipeInput('eur', 'p8', 8)
    rates.pipeInput('eur', 'r6', 6) // arrives after p8, but is older than it
    payments.pipeInput('eur', 'p18', 18) // releases p8: meets r6, not r0
    expect(out(driver)).toEqual(['eur=p8+r6@8'])
  })

  test("held records come out in timestamp order, ties by key then arrival (Kafka's buffer key: time, key, seqnum); a record already late joins at once", () => {
    const { driver, rates, payments } = topology({ joined: Joined.withGracePeriod(10) })
    rates.pipeInput('eur', 'r0', 0)
    rates.pipeInput('chf', 'c0', 0)
    payments.pipeInput('eur', 'a7', 7)
    payments.pipeInput('eur', 'b3', 3)
    payments.pipeInput('chf', 'x7', 7) // same time as a7, a key that sorts before it
    payments.pipeInput('eur', 'c7', 7)
    payments.pipeInput('eur', 'd30', 30) // releases everything <= 20
    payments.pipeInput('eur', 'e2', 2) // 28 behind stream time: past its grace already
    expect(out(driver)).toEqual([
      'eur=b3+r0@3',
      'chf=x7+c0@7',
      'eur=a7+r0@7',
      'eur=c7+r0@7',
      'eur=e2+r0@2',
    ])
  })

  test('a grace period of 0 is none: records join at once', () => {
    const { driver, rates, payments } = topology({ joined: Joined.withGracePeriod(0) })
    rates.pipeInput('eur', 'r0', 0)
    payments.pipeInput('eur', 'p1', 1)
    expect(out(driver)).toEqual(['eur=p1+r0@1'])
  })

  test('shouldFailIfTableIsNotVersioned / shouldFailIfGracePeriodIsLongerThanHistoryRetention', () => {
    const builder = new StreamsBuilder()
    const plain = builder.table<string, string>('plain')
    const stream = builder.stream<string, string>('payments')
    expect(() => stream.join(plain, pair, Joined.withGracePeriod(10))).toThrow(
      /KTable must be versioned to use a grace period/,
    )
    const versioned = builder.table<string, string>('rates', {
      materialized: Materialized.as(Stores.persistentVersionedKeyValueStore('v', 5)),
    })
    expect(() => stream.leftJoin(versioned, pair, Joined.withGracePeriod(10))).toThrow(
      InvalidArgumentError,
    )
    expect(() => stream.leftJoin(versioned, pair, Joined.withGracePeriod(10))).toThrow(
      /History retention must be at least grace period/,
    )
    expect(() => Joined.withGracePeriod(-1)).toThrow(InvalidArgumentError)
  })

  test('a versioned store is refused where only plain stores are read, with a typed error', () => {
    const builder = new StreamsBuilder()
    const versioned = builder.table<string, string>('rates', {
      materialized: Materialized.as(Stores.persistentVersionedKeyValueStore('v', 5)),
    })
    const other = builder.table<string, string>('other')
    expect(() => other.join(versioned, pair)).toThrow(InvalidArgumentError)
    const driver = new TopologyTestDriver(builder.build())
    expect(() => driver.getKeyValueStore('v')).toThrow(/versioned/)
  })
})
