import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { EmitStrategy, SlidingWindows, StreamsBuilder, type Windowed } from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import { propertyRuns, propertyTimeout } from '../support/propertyRuns.ts'

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

/**
 * Everything emitted, as `key[start,end]=value@timestamp`, sorted by key then window start as
 * Kafka's testAggregateLargeInput sorts it; the sort is stable, so each window's updates stay in
 * the order they came out. Compared whole: a missing, extra or repeated window fails.
 */
const emitted = (out: { key: string; start: number; end: number; value: string; ts: number }[]) =>
  [...out]
    .sort((a, b) => a.key.localeCompare(b.key) || a.start - b.start)
    .map((r) => `${r.key}[${r.start},${r.end}]=${r.value}@${r.ts}`)

// Expected values from Kafka's KStreamSlidingWindowAggregateTest (apache/kafka,
// streams/src/test/java/org/apache/kafka/streams/kstream/internals/KStreamSlidingWindowAggregateTest.java).
// Kafka gathers the small tests' output per window start as sets; here the whole list is compared,
// every window's end and key included.
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
    // Windows hold [start, start + timeDifference], both ends inclusive.
    expect(emitted(out)).toEqual([
      'A[0,10]=0+1@10',
      'A[0,10]=0+1+2@10',
      'A[4,14]=0+1+2+3@14',
      'A[5,15]=0+1+2+3+4@15',
      'A[10,20]=0+1+2+3+4+5@20',
      'A[11,21]=0+3@14',
      'A[11,21]=0+3+4@15',
      'A[11,21]=0+3+4+5@20',
      'A[12,22]=0+3+4+5+6@22',
      'A[15,25]=0+4@15',
      'A[15,25]=0+4+5@20',
      'A[15,25]=0+4+5+6@22',
      'A[16,26]=0+5@20',
      'A[16,26]=0+5+6@22',
      'A[20,30]=0+5+6+7@30',
      'A[21,31]=0+6@22',
      'A[21,31]=0+6+7@30',
      'A[23,33]=0+7@30',
    ])
  })

  test('testAggregateSmallInput, emit on window close', () => {
    const { out } = run(small, { emit: 'close', fold: 'aggregate' })
    // Stream time ends at 30: windows ending before 30 - 5 closed, each emitted once, final.
    expect(emitted(out)).toEqual([
      'A[0,10]=0+1+2@10',
      'A[4,14]=0+1+2+3@14',
      'A[5,15]=0+1+2+3+4@15',
      'A[10,20]=0+1+2+3+4+5@20',
      'A[11,21]=0+3+4+5@20',
      'A[12,22]=0+3+4+5+6@22',
    ])
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
    expect(emitted(out)).toEqual([
      'A[0,10]=1@10',
      'A[4,14]=1+2@14',
      'A[5,15]=1+2+3@15',
      'A[11,21]=2@14',
      'A[11,21]=2+3@15',
      'A[12,22]=2+3+4@22',
      'A[15,25]=3@15',
      'A[15,25]=3+4@22',
      'A[16,26]=4@22',
      'A[16,26]=4+5@26',
      'A[20,30]=4+5+6@30',
      'A[23,33]=5@26',
      'A[23,33]=5+6@30',
      'A[27,37]=6@30',
    ])
  })

  test('testReduceSmallInput, emit on window close', () => {
    const { out } = run(reduceInput, { emit: 'close', fold: 'reduce' })
    expect(emitted(out)).toEqual([
      'A[0,10]=1@10',
      'A[4,14]=1+2@14',
      'A[5,15]=1+2+3@15',
      'A[11,21]=2+3@15',
      'A[12,22]=2+3+4@22',
    ])
  })

  const largeInput: [string, string, number][] = [
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

  test('testAggregateLargeInput, emit on window close: out-of-order records within grace', () => {
    const { out, driver } = run(largeInput, { emit: 'close', fold: 'aggregate', grace: 10 })
    expect(emitted(out)).toEqual([
      'A[0,10]=0+1@10',
      'A[5,15]=0+1+4@15',
      'B[2,12]=0+1@12',
      'B[3,13]=0+1+2@13',
      'B[8,18]=0+1+2+3+6@18',
      'C[5,15]=0+2@15',
      'C[6,16]=0+2+3@16',
    ])
    // Kafka's comments name the five windows skipped as closed (each one dropped-record): B@14's
    // [4,14], C@11's [1,11], D@11's [1,11], D@12's [2,12] and D@16's [6,16].
    expect(driver.droppedRecords().total).toBe(5)
  })

  test('testAggregateLargeInput, emit on update (grace 50: nothing is late)', () => {
    const { out, driver } = run(largeInput, { emit: 'update', fold: 'aggregate', grace: 50 })
    expect(emitted(out)).toEqual([
      'A[0,10]=0+1@10',
      'A[5,15]=0+1+4@15',
      'A[10,20]=0+1+2@20',
      'A[10,20]=0+1+2+4@20',
      'A[11,21]=0+2@20',
      'A[11,21]=0+2+4@20',
      'A[12,22]=0+2+3@22',
      'A[12,22]=0+2+3+4@22',
      'A[16,26]=0+2+3@22',
      'A[21,31]=0+3@22',
      'B[2,12]=0+1@12',
      'B[3,13]=0+1+2@13',
      'B[4,14]=0+1+2+6@14',
      'B[8,18]=0+1+2+3@18',
      'B[8,18]=0+1+2+3+6@18',
      'B[9,19]=0+1+2+3+4@19',
      'B[9,19]=0+1+2+3+4+6@19',
      'B[13,23]=0+2@13',
      'B[13,23]=0+2+3@18',
      'B[13,23]=0+2+3+4@19',
      'B[13,23]=0+2+3+4+6@19',
      'B[14,24]=0+3@18',
      'B[14,24]=0+3+4@19',
      'B[14,24]=0+3+4+6@19',
      'B[15,25]=0+3+4+5@25',
      'B[19,29]=0+4@19',
      'B[19,29]=0+4+5@25',
      'B[20,30]=0+5@25',
      'C[1,11]=0+1@11',
      'C[5,15]=0+1+2@15',
      'C[6,16]=0+1+2+3@16',
      'C[11,21]=0+1+2+3+4@21',
      'C[12,22]=0+2@15',
      'C[12,22]=0+2+3@16',
      'C[12,22]=0+2+3+4@21',
      'C[13,23]=0+2+3+4+5@23',
      'C[16,26]=0+3@16',
      'C[16,26]=0+3+4@21',
      'C[16,26]=0+3+4+5@23',
      'C[17,27]=0+4@21',
      'C[17,27]=0+4+5@23',
      'C[22,32]=0+5@23',
      'D[1,11]=0+4@11',
      'D[2,12]=0+4+2@12',
      'D[6,16]=0+4+2+5@16',
      'D[12,22]=0+2@12',
      'D[12,22]=0+2+5@16',
      'D[13,23]=0+5@16',
      'D[19,29]=0+3@29',
    ])
    expect(driver.droppedRecords().total).toBe(0)
  })
})

/** A window and its records, in sorted order (the aggregate's order depends on arrivals). */
const contents = (key: string, start: number, end: number, value: string) =>
  `${key}[${start},${end}]=${value.split('+').slice(1).sort().join('+')}`
/** The same with the window's timestamp. */
const canonical = (key: string, start: number, end: number, value: string, ts: number) =>
  `${contents(key, start, end, value)}@${ts}`

describe('sliding windows against a brute-force model', () => {
  test(
    'with no late records: exactly the windows KIP-450 defines, each with exactly its records',
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 60 })), {
            minLength: 1,
            maxLength: 25,
          }),
          fc.integer({ min: 1, max: 15 }),
          (events, td) => {
            // A grace larger than any lateness: nothing is dropped, so the model is exact.
            const grace = 1000
            const inputs = events.map(([k, t], i): [string, string, number] => [k, String(i), t])
            // The model: per key, the left window [t - td, t] of every record (or [0, td] for a
            // record earlier than td), and the right window [t + 1, t + 1 + td] of every record that
            // has a later one within it; no other windows. A window holds its key's records within
            // its bounds, both ends inclusive, and its timestamp is the newest of them.
            const expected: string[] = []
            const expectedContents: string[] = []
            for (const key of new Set(inputs.map(([k]) => k))) {
              const times = inputs.filter(([k]) => k === key).map(([, , t]) => t)
              const starts = new Set<number>()
              for (const t of times) {
                starts.add(Math.max(0, t - td))
                if (times.some((q) => q > t && q <= t + 1 + td)) starts.add(t + 1)
              }
              for (const start of starts) {
                const inside = inputs.filter(
                  ([k, , t]) => k === key && t >= start && t <= start + td,
                )
                const value = ['0', ...inside.map(([, v]) => v)].join('+')
                const ts = Math.max(...inside.map(([, , t]) => t))
                expected.push(canonical(key, start, start + td, value, ts))
                expectedContents.push(contents(key, start, start + td, value))
              }
            }
            expected.sort()
            expectedContents.sort()

            // Emitting on update: the last result of each window is the model's, and no window
            // comes out that the model does not have; the store holds the same values.
            const update = run(inputs, { emit: 'update', fold: 'aggregate', td, grace })
            const last = new Map<string, string>()
            for (const r of update.out)
              last.set(`${r.key}@${r.start}`, canonical(r.key, r.start, r.end, r.value, r.ts))
            expect([...last.values()].sort()).toEqual(expected)
            const store = update.driver.getKeyValueStore<Windowed<string>, string>('store').all()
            expect(
              store
                .map(({ key: w, value }) => contents(w.key, w.window.start, w.window.end, value))
                .sort(),
            ).toEqual(expectedContents)

            // Emitting on close, with a last record far ahead that closes every window: each window
            // comes out exactly once, with its final result.
            const flush: [string, string, number] = ['z', 'flush', 10 * grace]
            const close = run([...inputs, flush], { emit: 'close', fold: 'aggregate', td, grace })
            expect(
              close.out.map((r) => canonical(r.key, r.start, r.end, r.value, r.ts)).sort(),
            ).toEqual(expected)
          },
        ),
        propertyRuns(1000),
      )
    },
    propertyTimeout(1000),
  )
})
