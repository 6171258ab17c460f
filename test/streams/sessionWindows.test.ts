import { describe, expect, test } from 'vitest'
import {
  EmitStrategy,
  SessionWindows,
  StreamsBuilder,
  Suppressed,
  type Windowed,
} from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'

type W = Windowed<string>
// Kafka's Windowed.toString for sessions: [key@start/end].
const show = (r: { key: W; value: unknown; timestamp: number }) =>
  `[${r.key.key}@${r.key.window.start}/${r.key.window.end}]=${String(r.value)}@${r.timestamp}`

/** A session count with its raw updates on 'raw' and, if asked, its suppressed final results. */
function sessionCount(
  windows: SessionWindows,
  options: { suppress?: boolean; emit?: EmitStrategy } = {},
) {
  const builder = new StreamsBuilder()
  const counts = builder
    .stream<string, string>('input')
    .groupByKey()
    .windowedBy(windows)
    .emitStrategy(options.emit ?? EmitStrategy.onWindowUpdate())
    .count({ materialized: 'counts' })
  counts.toStream().to('raw')
  if (options.suppress) counts.suppress(Suppressed.untilWindowCloses()).toStream().to('suppressed')
  const driver = new TopologyTestDriver(builder.build())
  const raw = driver.createOutputTopic<W, number | null>('raw')
  const suppressed = driver.createOutputTopic<W, number | null>('suppressed')
  return {
    driver,
    input: driver.createInputTopic<string, string>('input'),
    raw: () => raw.readRecordsToList().map(show),
    suppressed: () => suppressed.readRecordsToList().map(show),
  }
}

// KStreamSessionWindowAggregate drops a record when its merged session ends before
// stream time - grace - inactivity gap (windowCloseTime): a session is open to records until
// stream time passes end + gap + grace.
describe('session windows close at end + gap + grace (KStreamSessionWindowAggregate)', () => {
  // KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingLateRecordWithZeroGrace
  test('zero grace: a record for [0,0] is late once stream time passes 0 + gap', () => {
    const { driver, input } = sessionCount(SessionWindows.ofInactivityGapAndGrace(10, 0))
    input.pipeInput('dummy', 'dummy', 0) // stream time 0
    input.pipeInput('OnTime1', '1', 0) // on time
    input.pipeInput('dummy', 'dummy', 11) // stream time 11: close time 11 - 0 - 10 = 1
    input.pipeInput('Late1', '1', 0) // window [0,0] ends before 1: late
    expect(driver.droppedRecords().total).toBe(1)
    const sessions = driver.getKeyValueStore<W, number>('counts').all()
    expect(sessions.map((e) => e.key.key).sort()).toEqual(['OnTime1', 'dummy', 'dummy'])
  })

  // KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingLateRecordWithNonzeroGrace
  test('grace 1: a record for [0,0] is still taken at stream time 11, late at 12', () => {
    const { driver, input } = sessionCount(SessionWindows.ofInactivityGapAndGrace(10, 1))
    input.pipeInput('dummy', 'dummy', 0)
    input.pipeInput('OnTime1', '1', 0)
    input.pipeInput('dummy', 'dummy', 11) // close time 11 - 1 - 10 = 0: [0,0] is at the edge
    input.pipeInput('OnTime2', '1', 0) // "delayed record arrives on time, should not be skipped"
    expect(driver.droppedRecords().total).toBe(0)
    input.pipeInput('dummy', 'dummy', 12) // close time 1
    input.pipeInput('Late1', '1', 0)
    expect(driver.droppedRecords().total).toBe(1)
    const keys = driver
      .getKeyValueStore<W, number>('counts')
      .all()
      .map((e) => e.key.key)
    expect(keys).toContain('OnTime2')
    expect(keys).not.toContain('Late1')
  })

  test('a record that extends a session is taken until stream time passes its end + gap + grace', () => {
    const { driver, input, raw } = sessionCount(SessionWindows.ofInactivityGapAndGrace(5, 3))
    input.pipeInput('u', 'x', 0)
    input.pipeInput('v', 'x', 8) // close time 0: [0,0] still open
    input.pipeInput('u', 'x', 2) // joins [0,0]
    expect(driver.droppedRecords().total).toBe(0)
    input.pipeInput('v', 'x', 11) // close time 3: [0,2] has closed
    input.pipeInput('u', 'x', 1)
    expect(driver.droppedRecords().total).toBe(1)
    expect(raw()).toEqual([
      '[u@0/0]=1@0',
      '[v@8/8]=1@8',
      '[u@0/0]=null@0',
      '[u@0/2]=2@2',
      '[v@8/8]=null@8',
      '[v@8/11]=2@11',
    ])
  })
})

describe('suppress(untilWindowCloses) on session windows waits for end + gap + grace', () => {
  // SuppressScenarioTest.shouldSupportFinalResultsForSessionWindows (gap 5, no grace).
  test("Kafka's suppress scenario: raw updates and final results, each when Kafka emits it", () => {
    const { input, raw, suppressed } = sessionCount(SessionWindows.ofInactivityGapWithNoGrace(5), {
      suppress: true,
    })
    input.pipeInput('k1', 'v1', 0)
    input.pipeInput('k1', 'v1', 5)
    // "arbitrarily disordered records are admitted, because the window is not closed"
    input.pipeInput('k1', 'v1', 1)
    expect(suppressed()).toEqual([])
    // "any record in the same partition advances stream time": 11 - 5 = 6 passes [0,5]'s end,
    // not [11,11]'s.
    input.pipeInput('k2', 'v1', 11)
    expect(suppressed()).toEqual(['[k1@0/5]=3@5'])
    input.pipeInput('k1', 'v1', 5) // late for the closed [0,5]: dropped from every stream
    input.pipeInput('k1', 'v1', 30)
    expect(raw()).toEqual([
      '[k1@0/0]=1@0',
      '[k1@0/0]=null@0',
      '[k1@0/5]=2@5',
      '[k1@0/5]=null@5',
      '[k1@0/5]=3@5',
      '[k2@11/11]=1@11',
      '[k1@30/30]=1@30',
    ])
    expect(suppressed()).toEqual(['[k2@11/11]=1@11'])
  })

  // The Scala DSL's session suppress test (KTableTest, "very similar to SuppressScenarioTest"):
  // gap 5, grace 10.
  test('gap 5, grace 10: nothing before stream time reaches end + 15; the late record is dropped', () => {
    const { driver, input, suppressed } = sessionCount(
      SessionWindows.ofInactivityGapAndGrace(5, 10),
      { suppress: true },
    )
    for (const ts of [0, 1, 8, 2, 13, 10]) {
      input.pipeInput('k1', 'v1', ts)
      // [0,2] closes at 2 + 5 + 10 = 17: not at 13, though 13 is past 2 + grace.
      expect(suppressed()).toEqual([])
    }
    input.pipeInput('k1', 'v1', 30) // pushes stream time past both sessions
    input.pipeInput('k1', 'v1', 3) // late: would merge into [0,13], closed at 15
    expect(suppressed()).toEqual(['[k1@0/2]=3@2', '[k1@8/13]=3@13'])
    expect(driver.droppedRecords().total).toBe(1)
  })

  // KTableSuppressProcessor evicts while the buffer's earliest window end <= stream time -
  // (grace + gap): a session is released when stream time reaches end + gap + grace.
  test('a session is released when stream time reaches exactly end + gap + grace', () => {
    const { input, suppressed } = sessionCount(SessionWindows.ofInactivityGapAndGrace(5, 10), {
      suppress: true,
    })
    input.pipeInput('a', 'x', 0)
    input.pipeInput('b', 'x', 14)
    expect(suppressed()).toEqual([])
    input.pipeInput('b', 'x', 15)
    expect(suppressed()).toEqual(['[a@0/0]=1@0'])
  })

  test('suppress follows a session reduce (through its value mapping) and a filter', () => {
    const builder = new StreamsBuilder()
    builder
      .stream<string, number>('n')
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5))
      .reduce((a, b) => a + b)
      .filter((_k, total) => total > 1)
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('totals')
    const driver = new TopologyTestDriver(builder.build())
    const n = driver.createInputTopic<string, number>('n')
    const out = driver.createOutputTopic<W, number>('totals')
    n.pipeInput('k', 1, 0)
    n.pipeInput('k', 2, 3)
    n.pipeInput('j', 1, 8) // close time 3: [0,3] still open
    expect(out.isEmpty()).toBe(true)
    n.pipeInput('j', 1, 9)
    expect(out.readRecordsToList().map(show)).toEqual(['[k@0/3]=3@3'])
  })
})

// KStreamSessionWindowAggregate with EmitStrategy ON_WINDOW_CLOSE (KIP-825): updates (and the
// tombstones of merged sessions) are not forwarded; after each record, the sessions whose end
// lies in [last close time, close time - 1] are emitted with their aggregate, stamped with their
// end.
describe('SessionWindowedKStream.emitStrategy(onWindowClose) (KIP-825)', () => {
  test("the suppress scenario's inputs: each session once, when it closes", () => {
    const { input, raw } = sessionCount(SessionWindows.ofInactivityGapWithNoGrace(5), {
      emit: EmitStrategy.onWindowClose(),
    })
    input.pipeInput('k1', 'v1', 0)
    input.pipeInput('k1', 'v1', 5)
    input.pipeInput('k1', 'v1', 1)
    expect(raw()).toEqual([])
    input.pipeInput('k2', 'v1', 11)
    expect(raw()).toEqual(['[k1@0/5]=3@5'])
    input.pipeInput('k1', 'v1', 5) // late
    expect(raw()).toEqual([])
    input.pipeInput('k1', 'v1', 30)
    expect(raw()).toEqual(['[k2@11/11]=1@11'])
  })

  test('merged sessions are neither emitted nor retracted: only the merged result, once closed', () => {
    const { input, raw } = sessionCount(SessionWindows.ofInactivityGapAndGrace(5, 10), {
      emit: EmitStrategy.onWindowClose(),
    })
    input.pipeInput('u', 'x', 0)
    input.pipeInput('u', 'x', 20) // close time 5: [0,0] closes
    expect(raw()).toEqual(['[u@0/0]=1@0'])
    input.pipeInput('u', 'x', 10)
    input.pipeInput('u', 'x', 15) // bridges [10,10] and [20,20] into [10,20]
    input.pipeInput('u', 'x', 12)
    expect(raw()).toEqual([])
    input.pipeInput('v', 'x', 100)
    expect(raw()).toEqual(['[u@10/20]=4@20'])
  })

  test('sessions closing together come out by end, then start, then key', () => {
    const { input, raw } = sessionCount(SessionWindows.ofInactivityGapAndGrace(2, 1), {
      emit: EmitStrategy.onWindowClose(),
    })
    input.pipeInput('b', 'x', 4)
    input.pipeInput('a', 'x', 4)
    input.pipeInput('c', 'x', 3)
    input.pipeInput('c', 'x', 4) // [3,4]
    input.pipeInput('d', 'x', 1)
    input.pipeInput('z', 'x', 7) // close time 4: [1,1] only
    expect(raw()).toEqual(['[d@1/1]=1@1'])
    input.pipeInput('z', 'x', 8) // close time 5: every session ending at 4
    expect(raw()).toEqual(['[c@3/4]=2@4', '[a@4/4]=1@4', '[b@4/4]=1@4'])
  })

  // The range Kafka emits from starts at the last close time, and a record that is not late itself
  // may still merge with a session that closed (it reaches back one gap): Kafka then emits the
  // larger session too, with no tombstone for the first.
  test('a session extended after it was emitted is emitted again, as its larger self', () => {
    const { driver, input, raw } = sessionCount(SessionWindows.ofInactivityGapWithNoGrace(10), {
      emit: EmitStrategy.onWindowClose(),
    })
    input.pipeInput('a', 'x', 0)
    input.pipeInput('b', 'x', 11) // close time 1
    expect(raw()).toEqual(['[a@0/0]=1@0'])
    input.pipeInput('a', 'x', 5) // on time (5 + 10 >= 11), within the gap of [0,0]
    expect(driver.droppedRecords().total).toBe(0)
    input.pipeInput('b', 'x', 16) // close time 6
    expect(raw()).toEqual(['[a@0/5]=2@5'])
  })
})

// Kafka's session store keeps a session for its retention period after it ends (RocksDBSessionStore
// drops expired segments; SessionWindowedKStreamImpl's default retention is gap + grace), so a
// long-running aggregation's store holds recent sessions, not every session ever seen. duality
// keeps them at least a day (SessionWindows.retentionMs), as its window stores do.
describe('session stores expire sessions after retention', () => {
  const DAY = 24 * 60 * 60 * 1000
  test('a session leaves the store once stream time is past its end + retention, with nothing emitted', () => {
    const windows = SessionWindows.ofInactivityGapAndGrace(10, 5)
    expect(windows.retentionMs()).toBe(DAY)
    const { driver, input, raw } = sessionCount(windows)
    const store = () =>
      driver
        .getKeyValueStore<W, number>('counts')
        .all()
        .map((e) => `${e.key.key}@${e.key.window.start}/${e.key.window.end}`)
        .sort()
    input.pipeInput('a', '1', 0)
    input.pipeInput('a', '1', 5) // merged: a@0/5
    input.pipeInput('b', '1', DAY + 5) // stream time at a's end + retention: a is kept
    expect(store()).toEqual(['a@0/5', `b@${DAY + 5}/${DAY + 5}`])
    raw() // drain
    input.pipeInput('b', '1', DAY + 6) // past it: a expires
    expect(store()).toEqual([`b@${DAY + 5}/${DAY + 6}`])
    // Only b's own merge came out; the expiry is silent downstream.
    expect(raw()).toEqual([
      `[b@${DAY + 5}/${DAY + 5}]=null@${DAY + 5}`,
      `[b@${DAY + 5}/${DAY + 6}]=2@${DAY + 6}`,
    ])
    // A record of a after its session expired starts a new one (it is late here, so dropped).
    input.pipeInput('a', '1', 6)
    expect(driver.droppedRecords().total).toBe(1)
    expect(store()).toEqual([`b@${DAY + 5}/${DAY + 6}`])
  })
})
