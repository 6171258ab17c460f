// Runs Kafka's join semantics tables row by row through duality's TopologyTestDriver.
//
// A table is a list of rows; each row pipes one input record (a few rows of the foreign-key table
// pipe two) with an explicit timestamp, then asserts exactly what the join emitted for that row,
// per join kind (inner / left / outer), and nothing else. Each row is its own test, so a failing
// row names itself; the rows share one driver per join kind and run in order (do not filter
// single rows with -t: later rows depend on earlier ones).
import { beforeAll, describe, expect, it } from 'vitest'
import { StreamsBuilder } from '../../src/index.ts'
import {
  TopologyTestDriver,
  type TestInputTopic,
  type TestOutputTopic,
  type TestRecord,
} from '../../src/testing/index.ts'

export type Side = 'L' | 'R'

/** One input record: the side (topic 'left' or 'right'), key, value, timestamp. */
export type Input = readonly [side: Side, key: unknown, value: unknown, timestamp: number]

export interface Row<Kind extends string> {
  inputs: readonly Input[]
  /** What each join kind emits for this row, formatted by the table's `show`. */
  out: Readonly<Record<Kind, readonly string[]>>
}

export interface JoinTable<Kind extends string> {
  kinds: readonly Kind[]
  rows: readonly Row<Kind>[]
  /** Builds the join of kind `kind` reading topics 'left' and 'right', writing topic 'out'. */
  topology: (builder: StreamsBuilder, kind: Kind) => void
  /** How an output record is written in the table. */
  show: (record: TestRecord<unknown, unknown>) => string
  /** Checks after the last row (e.g. the result store), per kind. */
  after?: (driver: TopologyTestDriver, kind: Kind) => void
  afterTitle?: string
}

/** Rows written `[side, key, value, timestamp, ...outputs per kind]`, as in Kafka's tables. */
export function rowsOf<Kind extends string>(
  kinds: readonly Kind[],
  table: readonly (readonly [Side, unknown, unknown, number, ...(readonly string[])[]])[],
): Row<Kind>[] {
  return table.map(([side, key, value, ts, ...outs]) => ({
    inputs: [[side, key, value, ts]],
    out: Object.fromEntries(kinds.map((k, i) => [k, outs[i] ?? []])) as Record<Kind, string[]>,
  }))
}

const describeInput = ([side, key, value, ts]: Input) =>
  `${side} ${stringify(key)}:${stringify(value)}@${ts}`

export function stringify(x: unknown): string {
  return typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)
}

/** Kafka's test joiner (AbstractJoinIntegrationTest.valueJoiner): value1 + "-" + value2. */
export const dashJoiner = (l: unknown, r: unknown) => `${String(l)}-${String(r)}`

/** The docs' notation for the arguments passed to the ValueJoiner: [A, a], [A, null]. */
export const docsJoiner = (l: unknown, r: unknown) => `[${String(l)}, ${String(r)}]`

export function runJoinTable<Kind extends string>(table: JoinTable<Kind>): void {
  describe.each(table.kinds)('%s', (kind) => {
    let driver: TopologyTestDriver
    let left: TestInputTopic<unknown, unknown>
    let right: TestInputTopic<unknown, unknown>
    let out: TestOutputTopic<unknown, unknown>
    beforeAll(() => {
      const builder = new StreamsBuilder()
      table.topology(builder, kind)
      driver = new TopologyTestDriver(builder.build())
      left = driver.createInputTopic('left')
      right = driver.createInputTopic('right')
      out = driver.createOutputTopic('out')
    })
    it.each(
      table.rows.map((row, i) => ({
        row,
        title: `row ${i + 1}: ${row.inputs.map(describeInput).join(', ')}`,
      })),
    )('$title', ({ row }) => {
      for (const [side, key, value, ts] of row.inputs)
        (side === 'L' ? left : right).pipeInput(key, value, ts)
      expect(out.readRecordsToList().map(table.show)).toEqual(row.out[kind])
    })
    if (table.after) {
      const after = table.after
      it(table.afterTitle ?? 'after the last row', () => after(driver, kind))
    }
  })
}
