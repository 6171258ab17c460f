import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { EmitStrategy, SlidingWindows, StreamsBuilder, type Windowed } from '../src/index.ts'
import { TopologyTestDriver } from '../src/testing/index.ts'

type Emit = 'update' | 'close'

/** Kafka's MockInitializer.STRING_INIT + MockAggregator.TOSTRING_ADDER, or MockReducer.STRING_ADDER. */
function run(
  inputs: [string, string, number][],
  options: { emit: Emit; fold: 'aggregate' | 'reduce'; td?: number; grace?: number },
) {
  const builder = new StreamsBuilder()
  const windowed = builder
    .stream<string, string>('topic')
    .groupByKey()
    .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(options.td ?? 10, options.grace ?? 5))
    .emitStrategy(
      options.emit === 'close' ? EmitStrategy.onWindowClose() : EmitStrategy.onWindowUpdate(),
    )
  const table =
    options.fold === 'aggregate'
      ? windowed.aggregate(
          () => '0',
          (_k, v, agg) => `${agg}+${v}`,
          { materialized: 'store' },
        )
      : windowed.reduce((a, b) => `${a}+${b}`, { materialized: 'store' })
  table.toStream().to('out')
  const driver = new TopologyTestDriver(builder.build())
  const input = driver.createInputTopic<string, string>('topic')
  for (const [key, value, ts] of inputs) input.pipeInput(key, value, ts)
  return {
    out: driver
      .createOutputTopic<Windowed<string>, string>('out')
      .readRecordsToList()
      .map((r) => ({
        key: r.key.key,
        start: r.key.window.start,
        end: r.key.window.end,
        value: r.value,
        ts: r.timestamp,
      })),
    driver,
  }
}

/** Kafka's gatherOutput: per window start, the set of (value, timestamp) emitted. */
function byStart(out: { start: number; value: string; ts: number }[]) {
  const map: Record<number, string[]> = {}
  for (const { start, value, ts } of out) (map[start] ??= []).push(`${value}@${ts}`)
  for (const list of Object.values(map)) list.sort()
  return map
}

// Expected values from Kafka's KStreamSlidingWindowAggregateTest (apache/kafka,
// streams/src/test/java/org/apache/kafka/streams/kstream/internals/KStreamSlidingWindowAggregateTest.java).
describe("Kafka's sliding-window aggregation tests", () => {
  const small: [string, string, number][] = [
    ['A', '1', 10],
    ['A', '2', 10],
    ['A', '3', 14],
    ['A', '4', 15],
    ['A', '5', 20],
    ['A', '6', 22],
    ['A', '7', 30],
  ]

  test('testAggregateSmallInput, emit on update', () => {
    const { out } = run(small, { emit: 'update', fold: 'aggregate' })
    expect(byStart(out)).toEqual({
      0: ['0+1+2@10', '0+1@10'],
      4: ['0+1+2+3@14'],
      5: ['0+1+2+3+4@15'],
      10: ['0+1+2+3+4+5@20'],
      11: ['0+3+4+5@20', '0+3+4@15', '0+3@14'],
      12: ['0+3+4+5+6@22'],
      15: ['0+4+5+6@22', '0+4+5@20', '0+4@15'],
      16: ['0+5+6@22', '0+5@20'],
      20: ['0+5+6+7@30'],
      21: ['0+6+7@30', '0+6@22'],
      23: ['0+7@30'],
    })
    // Windows hold [start, start + timeDifference], both ends inclusive.
    expect(out.every((r) => r.end === r.start + 10)).toBe(true)
  })

  test('testAggregateSmallInput, emit on window close', () => {
    const { out } = run(small, { emit: 'close', fold: 'aggregate' })
    expect(byStart(out)).toEqual({
      0: ['0+1+2@10'],
      4: ['0+1+2+3@14'],
      5: ['0+1+2+3+4@15'],
      10: ['0+1+2+3+4+5@20'],
      11: ['0+3+4+5@20'],
      12: ['0+3+4+5+6@22'],
    })
  })

  const reduceInput: [string, string, number][] = [
    ['A', '1', 10],
    ['A', '2', 14],
    ['A', '3', 15],
    ['A', '4', 22],
    ['A', '5', 26],
    ['A', '6', 30],
  ]

  test('testReduceSmallInput, emit on update', () => {
    const { out } = run(reduceInput, { emit: 'update', fold: 'reduce' })
    expect(byStart(out)).toEqual({
      0: ['1@10'],
      4: ['1+2@14'],
      5: ['1+2+3@15'],
      11: ['2+3@15', '2@14'],
      12: ['2+3+4@22'],
      15: ['3+4@22', '3@15'],
      16: ['4+5@26', '4@22'],
      20: ['4+5+6@30'],
      23: ['5+6@30', '5@26'],
      27: ['6@30'],
    })
  })

  test('testReduceSmallInput, emit on window close', () => {
    const { out } = run(reduceInput, { emit: 'close', fold: 'reduce' })
    expect(byStart(out)).toEqual({
      0: ['1@10'],
      4: ['1+2@14'],
      5: ['1+2+3@15'],
      11: ['2+3@15'],
      12: ['2+3+4@22'],
    })
  })

  test('testAggregateLargeInput (emit on window close): out-of-order records within grace', () => {
    const inputs: [string, string, number][] = [
      ['A', '1', 10],
      ['A', '2', 20],
      ['A', '3', 22],
      ['A', '4', 15],
      ['B', '1', 12],
      ['B', '2', 13],
      ['B', '3', 18],
      ['B', '4', 19],
      ['B', '5', 25],
      ['B', '6', 14],
      ['C', '1', 11],
      ['C', '2', 15],
      ['C', '3', 16],
      ['C', '4', 21],
      ['C', '5', 23],
      ['D', '4', 11],
      ['D', '2', 12],
      ['D', '3', 29],
      ['D', '5', 16],
    ]
    const { out, driver } = run(inputs, { emit: 'close', fold: 'aggregate', grace: 10 })
    const sorted = out
      .map((r) => `${r.key}[${r.start},${r.end}]=${r.value}@${r.ts}`)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    expect(sorted).toEqual([
      'A[0,10]=0+1@10',
      'A[5,15]=0+1+4@15',
      'B[2,12]=0+1@12',
      'B[3,13]=0+1+2@13',
      'B[8,18]=0+1+2+3+6@18',
      'C[5,15]=0+2@15',
      'C[6,16]=0+2+3@16',
    ])
    // The skipped records of Kafka's comments: B@14's [4,14], C@11, D@11, D@12 and D@16.
    expect(driver.droppedRecords().total).toBeGreaterThan(0)
  })
})

describe('sliding windows against a brute-force model', () => {
  test('with no late records, every window holds exactly the records within its bounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 60 })), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.integer({ min: 1, max: 15 }),
        (events, td) => {
          // A grace larger than any lateness: nothing is dropped, so the model is exact.
          const inputs = events.map(([k, t], i): [string, string, number] => [k, String(i), t])
          const { driver } = run(inputs, { emit: 'update', fold: 'aggregate', td, grace: 1000 })
          const store = driver.getKeyValueStore<Windowed<string>, string>('store')
          for (const { key, value } of store.all()) {
            const { start, end } = key.window
            const inside = inputs
              .filter(([k, , t]) => k === key.key && t >= start && t <= end)
              .map(([, v]) => v)
            // Arrival order of the records in the window (the aggregator is order-sensitive).
            expect(value.split('+').slice(1).sort()).toEqual(inside.sort())
            expect(inside.length).toBeGreaterThan(0)
          }
          // Every record's own window [t - td, t] (or [0, td] for early records) exists.
          const starts = new Set(store.all().map(({ key }) => `${key.key}@${key.window.start}`))
          for (const [k, , t] of inputs)
            expect(starts.has(`${k}@${Math.max(0, t - td)}`)).toBe(true)
        },
      ),
      { numRuns: 300 },
    )
  })
})
