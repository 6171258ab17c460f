import { describe, expect, test } from 'vitest'
import { KeyValue, StreamsBuilder } from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'

// Kafka Streams semantics with caching off: every update is emitted, as TopologyTestDriver shows.

describe('KStream stateless operators', () => {
  test('filter, filterNot, map, mapValues, selectKey, flatMap, flatMapValues, peek, foreach', () => {
    const builder = new StreamsBuilder()
    const input = builder.stream<string, number>('in')
    const seen: string[] = []
    input
      .filter((_, v) => v > 1)
      .mapValues((v) => v * 10)
      .to('big')
    input.filterNot((_, v) => v > 1).to('small')
    input.map((k, v) => KeyValue.pair(`${k}!`, String(v))).to('mapped')
    input.selectKey((_, v) => v % 2).to('parity')
    input
      .flatMap((k, v) => Array.from({ length: v }, (_, i) => KeyValue.pair(`${k}${i}`, i)))
      .to('flat')
    input.flatMapValues((v) => [v, -v]).to('both')
    input.peek((k) => seen.push(`peek ${k}`)).foreach((k, v) => seen.push(`each ${k}=${v}`))
    const driver = new TopologyTestDriver(builder.build())
    const pipe = driver.createInputTopic<string, number>('in')
    pipe.pipeInput('a', 1, 100)
    pipe.pipeInput('b', 2, 200)
    const read = (topic: string) => driver.createOutputTopic(topic).readKeyValuesToList()
    expect(read('big')).toEqual([{ key: 'b', value: 20 }])
    expect(read('small')).toEqual([{ key: 'a', value: 1 }])
    expect(read('mapped')).toEqual([
      { key: 'a!', value: '1' },
      { key: 'b!', value: '2' },
    ])
    expect(read('parity')).toEqual([
      { key: 1, value: 1 },
      { key: 0, value: 2 },
    ])
    expect(read('flat')).toEqual([
      { key: 'a0', value: 0 },
      { key: 'b0', value: 0 },
      { key: 'b1', value: 1 },
    ])
    expect(read('both').map((kv) => kv.value)).toEqual([1, -1, 2, -2])
    expect(seen).toEqual(['peek a', 'each a=1', 'peek b', 'each b=2'])
  })

  test('merge interleaves in processing order; split routes to the first matching branch', () => {
    const builder = new StreamsBuilder()
    const a = builder.stream<string, number>('a')
    const b = builder.stream<string, number>('b')
    a.merge(b).to('merged')
    const branches = a
      .split('route-')
      .branch((_, v) => v < 10, 'small')
      .branch((_, v) => v < 100, 'medium')
      .defaultBranch('large')
    branches.get('route-small')!.to('small')
    branches.get('route-medium')!.to('medium')
    branches.get('route-large')!.to('large')
    const driver = new TopologyTestDriver(builder.build())
    const ia = driver.createInputTopic<string, number>('a')
    const ib = driver.createInputTopic<string, number>('b')
    ia.pipeInput('x', 5, 1)
    ib.pipeInput('y', 50, 2)
    ia.pipeInput('z', 500, 3)
    expect(
      driver
        .createOutputTopic('merged')
        .readKeyValuesToList()
        .map((kv) => kv.key),
    ).toEqual(['x', 'y', 'z'])
    expect(driver.createOutputTopic('small').readKeyValuesToList()).toEqual([
      { key: 'x', value: 5 },
    ])
    expect(driver.createOutputTopic('medium').isEmpty()).toBe(true)
    expect(driver.createOutputTopic('large').readKeyValuesToList()).toEqual([
      { key: 'z', value: 500 },
    ])
  })
})

describe('aggregations', () => {
  test("word count (Kafka's WordCountDemo): every update is emitted, the store holds the totals", () => {
    const builder = new StreamsBuilder()
    builder
      .stream<string | null, string>('lines')
      .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter(Boolean))
      .groupBy((_, word) => word)
      .count({ materialized: 'counts' })
      .toStream()
      .to('word-counts')
    const driver = new TopologyTestDriver(builder.build())
    const lines = driver.createInputTopic<string | null, string>('lines')
    lines.pipeInput(null, 'all streams lead to kafka', 10)
    lines.pipeInput(null, 'hello kafka streams', 20)
    const out = driver.createOutputTopic<string, number>('word-counts')
    expect(out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['all', 1, 10],
      ['streams', 1, 10],
      ['lead', 1, 10],
      ['to', 1, 10],
      ['kafka', 1, 10],
      ['hello', 1, 20],
      ['kafka', 2, 20],
      ['streams', 2, 20],
    ])
    const store = driver.getKeyValueStore<string, number>('counts')
    expect(store.get('kafka')).toBe(2)
    expect(store.all().map((kv) => `${kv.key}=${kv.value}`)).toEqual([
      'all=1',
      'hello=1',
      'kafka=2',
      'lead=1',
      'streams=2',
      'to=1',
    ])
  })

  test('reduce and aggregate skip null keys and values; results carry the largest input timestamp', () => {
    const builder = new StreamsBuilder()
    const grouped = builder.stream<string | null, number | null>('n').groupByKey()
    grouped
      .reduce((a, b) => a! + b!)
      .toStream()
      .to('sum')
    grouped
      .aggregate(
        () => [] as number[],
        (_k, v, list) => [...list, v!],
      )
      .toStream()
      .to('lists')
    const driver = new TopologyTestDriver(builder.build())
    const n = driver.createInputTopic<string | null, number | null>('n')
    n.pipeInput('k', 1, 50)
    n.pipeInput(null, 5, 60)
    n.pipeInput('k', null, 70)
    n.pipeInput('k', 2, 40) // out of order: the aggregate keeps timestamp 50
    expect(
      driver
        .createOutputTopic('sum')
        .readRecordsToList()
        .map((r) => [r.value, r.timestamp]),
    ).toEqual([
      [1, 50],
      [3, 50],
    ])
    expect(driver.createOutputTopic('lists').readValue()).toEqual([1])
  })
})

describe('KTable', () => {
  test('a table source keeps the latest value per key; tombstones delete and are forwarded', () => {
    const builder = new StreamsBuilder()
    const table = builder.table<string, number>('t', { materialized: 'latest' })
    table.toStream().to('changes')
    table
      .filter((_, v) => v >= 10, { materialized: 'big' })
      .toStream()
      .to('big')
    table
      .mapValues((v) => v * 2)
      .toStream()
      .to('doubled')
    const driver = new TopologyTestDriver(builder.build())
    const t = driver.createInputTopic<string, number | null>('t')
    t.pipeInput('a', 5, 1)
    t.pipeInput('a', 15, 2)
    t.pipeInput('b', 20, 3)
    t.pipeInput('a', 7, 4)
    t.pipeInput('b', null, 5)
    t.pipeInput('c', null, 6) // deleting what never existed forwards nothing
    expect(driver.createOutputTopic('changes').readKeyValuesToList()).toEqual([
      { key: 'a', value: 5 },
      { key: 'a', value: 15 },
      { key: 'b', value: 20 },
      { key: 'a', value: 7 },
      { key: 'b', value: null },
    ])
    // filter: a drops below 10 again -> tombstone for a; b's deletion -> tombstone for b.
    expect(driver.createOutputTopic('big').readKeyValuesToList()).toEqual([
      { key: 'a', value: 15 },
      { key: 'b', value: 20 },
      { key: 'a', value: null },
      { key: 'b', value: null },
    ])
    expect(driver.createOutputTopic('doubled').readKeyValuesToMap()).toEqual(
      new Map([
        ['a', 14],
        ['b', null],
      ]),
    )
    expect(driver.getKeyValueStore('latest').all()).toEqual([{ key: 'a', value: 7 }])
    expect(driver.getKeyValueStore('big').all()).toEqual([])
  })

  test('groupBy + aggregate with adder and subtractor: a moved key leaves its old group first', () => {
    const builder = new StreamsBuilder()
    builder
      .table<string, string>('user-regions')
      .groupBy((user, region) => KeyValue.pair(region, user))
      .count({ materialized: 'users-per-region' })
      .toStream()
      .to('region-counts')
    const driver = new TopologyTestDriver(builder.build())
    const users = driver.createInputTopic<string, string | null>('user-regions')
    users.pipeInput('alice', 'asia', 1)
    users.pipeInput('bob', 'europe', 2)
    users.pipeInput('alice', 'europe', 3)
    users.pipeInput('bob', null, 4)
    expect(driver.createOutputTopic('region-counts').readKeyValuesToList()).toEqual([
      { key: 'asia', value: 1 },
      { key: 'europe', value: 1 },
      { key: 'asia', value: 0 },
      { key: 'europe', value: 2 },
      { key: 'europe', value: 1 },
    ])
    expect(driver.getKeyValueStore('users-per-region').all()).toEqual([
      { key: 'asia', value: 0 },
      { key: 'europe', value: 1 },
    ])
  })

  test('a stream turned into a table, and a reduce with subtractor over a re-grouped table', () => {
    const builder = new StreamsBuilder()
    builder
      .stream<string, number>('scores')
      .toTable({ materialized: 'score' })
      .groupBy((_player, score) => KeyValue.pair('total', score))
      .reduce(
        (a, b) => a + b,
        (a, b) => a - b,
        { materialized: 'total' },
      )
    const driver = new TopologyTestDriver(builder.build())
    const scores = driver.createInputTopic<string, number>('scores')
    scores.pipeInput('p1', 10, 1)
    scores.pipeInput('p2', 5, 2)
    scores.pipeInput('p1', 3, 3)
    expect(driver.getKeyValueStore('total').get('total')).toBe(8)
    expect(driver.getKeyValueStore('score').get('p1')).toBe(3)
  })
})
