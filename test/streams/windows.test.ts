import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  EmitStrategy,
  SessionWindows,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  type Windowed,
} from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import { propertyRuns, propertyTimeout } from '../support/propertyRuns.ts'

type W = Windowed<string>
const show = (r: { key: W; value: unknown; timestamp?: number }) =>
  `${r.key.key}@${r.key.window.start}-${r.key.window.end}=${String(r.value)}`

function windowedCount(
  windows: TimeWindows,
  strategy: EmitStrategy = EmitStrategy.onWindowUpdate(),
) {
  const builder = new StreamsBuilder()
  builder
    .stream<string, string>('clicks')
    .groupByKey()
    .windowedBy(windows)
    .emitStrategy(strategy)
    .count({ materialized: 'counts' })
    .toStream()
    .to('out')
  const driver = new TopologyTestDriver(builder.build())
  return {
    driver,
    input: driver.createInputTopic<string, string>('clicks'),
    out: driver.createOutputTopic<W, number>('out'),
  }
}

describe('time windows', () => {
  test('tumbling: each record counts in one window; late records past the grace are dropped and counted', () => {
    const { driver, input, out } = windowedCount(TimeWindows.ofSizeAndGrace(10, 5))
    input.pipeInput('a', 'x', 1)
    input.pipeInput('a', 'x', 9)
    input.pipeInput('a', 'x', 12) // stream time 12: window [0,10) closes at 10 + 5 = 15
    input.pipeInput('a', 'x', 3) // still within grace
    input.pipeInput('a', 'x', 16) // stream time 16
    input.pipeInput('a', 'x', 4) // late: [0,10) closed (10 <= 16 - 5)
    expect(out.readKeyValuesToList().map(show)).toEqual([
      'a@0-10=1',
      'a@0-10=2',
      'a@10-20=1',
      'a@0-10=3',
      'a@10-20=2',
    ])
    expect(driver.droppedRecords().total).toBe(1)
  })

  test('hopping: a record counts in every window that holds it', () => {
    const { driver, input, out } = windowedCount(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5))
    input.pipeInput('a', 'x', 7)
    input.pipeInput('b', 'x', 12)
    expect(out.readKeyValuesToList().map(show)).toEqual([
      'a@0-10=1',
      'a@5-15=1',
      'b@5-15=1',
      'b@10-20=1',
    ])
    expect(driver.getKeyValueStore<W, number>('counts').all().map(show)).toEqual([
      'a@0-10=1',
      'a@5-15=1',
      'b@10-20=1',
      'b@5-15=1',
    ])
  })

  test('emitStrategy(onWindowClose) emits each window once, with its final count, when it closes', () => {
    const { input, out } = windowedCount(
      TimeWindows.ofSizeAndGrace(10, 2),
      EmitStrategy.onWindowClose(),
    )
    input.pipeInput('a', 'x', 1)
    input.pipeInput('a', 'x', 5)
    input.pipeInput('b', 'x', 8)
    input.pipeInput('a', 'x', 11) // stream time 11: [0,10) closes at 12, not yet
    expect(out.isEmpty()).toBe(true)
    input.pipeInput('a', 'x', 12)
    expect(out.readKeyValuesToList().map(show)).toEqual(['a@0-10=2', 'b@0-10=1'])
    input.pipeInput('a', 'x', 30)
    expect(out.readKeyValuesToList().map(show)).toEqual(['a@10-20=2'])
  })

  test('suppress(untilWindowCloses) turns every-update results into final results', () => {
    const builder = new StreamsBuilder()
    builder
      .stream<string, number>('n')
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 0))
      .reduce((a, b) => a + b)
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('totals')
    const driver = new TopologyTestDriver(builder.build())
    const n = driver.createInputTopic<string, number>('n')
    const out = driver.createOutputTopic<W, number>('totals')
    n.pipeInput('k', 1, 1)
    n.pipeInput('k', 2, 2)
    expect(out.isEmpty()).toBe(true)
    n.pipeInput('k', 10, 10)
    expect(out.readRecordsToList().map((r) => [show(r), r.timestamp])).toEqual([['k@0-10=3', 2]])
  })

  test(
    'windowed counts agree with a brute-force model over random timestamps (property)',
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 0, max: 15 }),
          fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 200 })), {
            maxLength: 60,
          }),
          (size, advanceRaw, grace, records) => {
            const advance = Math.min(size, advanceRaw)
            const { driver, input, out } = windowedCount(
              TimeWindows.ofSizeAndGrace(size, grace).advanceBy(advance),
            )
            for (const [key, ts] of records) input.pipeInput(key, 'x', ts)
            // The model: stream time is the largest timestamp so far; a record counts in window
            // [s, s + size) (s a multiple of advance, s >= 0) unless s + size <= streamTime - grace.
            // Every count emits the window's new count, windows in start order, stamped with the
            // newest timestamp the window holds.
            const model = new Map<string, number>()
            const newest = new Map<string, number>()
            const emitted: [string, number][] = []
            let streamTime = -Infinity
            let dropped = 0
            for (const [key, ts] of records) {
              streamTime = Math.max(streamTime, ts)
              let late = false
              for (let s = 0; s <= ts; s += advance) {
                if (s + size <= ts) continue
                if (s + size <= streamTime - grace) {
                  late = true
                  continue
                }
                const id = `${key}@${s}-${s + size}`
                model.set(id, (model.get(id) ?? 0) + 1)
                newest.set(id, Math.max(newest.get(id) ?? ts, ts))
                emitted.push([`${id}=${model.get(id)}`, newest.get(id)!])
              }
              if (late) dropped++
            }
            const actual = driver.getKeyValueStore<W, number>('counts').all().map(show).sort()
            expect(actual).toEqual([...model].map(([id, n]) => `${id}=${n}`).sort())
            expect(out.readRecordsToList().map((r) => [show(r), r.timestamp])).toEqual(emitted)
            expect(driver.droppedRecords().total).toBe(dropped)
          },
        ),
        propertyRuns(1000),
      )
    },
    propertyTimeout(1000),
  )
})

describe('session windows', () => {
  test(
    'with no late records, sessions are the runs of records within the gap (property)',
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 20 }),
          fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 200 })), {
            minLength: 1,
            maxLength: 40,
          }),
          (gap, records) => {
            const builder = new StreamsBuilder()
            builder
              .stream<string, string>('events')
              .groupByKey()
              // A grace longer than the whole run: no record is late, so the model is exact.
              .windowedBy(SessionWindows.ofInactivityGapAndGrace(gap, 1000))
              .count({ materialized: 'sessions' })
              .toStream()
              .to('out')
            const driver = new TopologyTestDriver(builder.build())
            const input = driver.createInputTopic<string, string>('events')
            const out = driver.createOutputTopic<W, number | null>('out')
            for (const [key, ts] of records) input.pipeInput(key, 'x', ts)
            // The model: a key's timestamps, sorted, split wherever two neighbours are more than
            // the gap apart; each run is one session [first, last] counting its records.
            const expected: string[] = []
            for (const key of new Set(records.map(([k]) => k))) {
              const times = records.filter(([k]) => k === key).map(([, t]) => t)
              times.sort((x, y) => x - y)
              let first = 0
              for (let i = 1; i <= times.length; i++) {
                if (i < times.length && times[i]! - times[i - 1]! <= gap) continue
                expected.push(`${key}@${times[first]}-${times[i - 1]}=${i - first}`)
                first = i
              }
            }
            const store = driver.getKeyValueStore<W, number>('sessions').all()
            expect(store.map(show).sort()).toEqual(expected.sort())
            // What came out agrees: every session ever emitted was retracted (its last result a
            // tombstone) unless it is one of the final sessions, whose last result is its count.
            const last = new Map<string, string>()
            for (const r of out.readKeyValuesToList())
              last.set(`${r.key.key}@${r.key.window.start}-${r.key.window.end}`, show(r))
            expect([...last.values()].filter((e) => !e.endsWith('=null')).sort()).toEqual(expected)
            expect(driver.droppedRecords().total).toBe(0)
          },
        ),
        propertyRuns(1000),
      )
    },
    propertyTimeout(1000),
  )

  test('sessions merge within the gap; merged sessions are retracted before the new one is emitted', () => {
    const builder = new StreamsBuilder()
    builder
      .stream<string, string>('events')
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 30))
      .count({ materialized: 'sessions' })
      .toStream()
      .to('out')
    const driver = new TopologyTestDriver(builder.build())
    const input = driver.createInputTopic<string, string>('events')
    const out = driver.createOutputTopic<W, number | null>('out')
    input.pipeInput('u', 'x', 0)
    input.pipeInput('u', 'x', 20)
    input.pipeInput('u', 'x', 10) // within 5 of neither: a third session
    expect(out.readKeyValuesToList().map(show)).toEqual(['u@0-0=1', 'u@20-20=1', 'u@10-10=1'])
    input.pipeInput('u', 'x', 15) // bridges [10,10] and [20,20]
    expect(out.readKeyValuesToList().map(show)).toEqual([
      'u@10-10=null',
      'u@20-20=null',
      'u@10-20=3',
    ])
    input.pipeInput('u', 'x', 12) // inside [10,20]: the session is replaced by itself, updated
    expect(out.readKeyValuesToList().map(show)).toEqual(['u@10-20=null', 'u@10-20=4'])
    expect(driver.getKeyValueStore<W, number>('sessions').all().map(show)).toEqual([
      'u@0-0=1',
      'u@10-20=4',
    ])
  })

  test('a record for a session that ended before stream time - grace - gap is dropped as late', () => {
    const builder = new StreamsBuilder()
    builder
      .stream<string, string>('events')
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 3))
      .reduce((a, b) => a + b)
      .toStream()
      .to('out')
    const driver = new TopologyTestDriver(builder.build())
    const input = driver.createInputTopic<string, string>('events')
    const out = driver.createOutputTopic<W, string | null>('out')
    input.pipeInput('u', 'a', 0)
    input.pipeInput('u', 'b', 100)
    input.pipeInput('u', 'c', 2) // session [0,2] ends before 100 - 3 - 5: late
    expect(driver.droppedRecords().total).toBe(1)
    input.pipeInput('u', 'd', 98) // [98,100] merges with [100,100]
    expect(out.readKeyValuesToList().map(show)).toEqual([
      'u@0-0=a',
      'u@100-100=b',
      'u@100-100=null',
      'u@98-100=bd',
    ])
  })
})
