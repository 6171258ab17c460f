// Kafka's KStream-KTable and KStream-GlobalKTable join semantics, table by table (see
// joinSemantics.harness.ts).
import { describe } from 'vitest'
import {
  dashJoiner,
  docsJoiner,
  rowsOf,
  runJoinTable,
  stringify,
  type JoinTable,
} from './joinSemantics.harness.ts'

type Kind = 'inner' | 'left'
const kinds: readonly Kind[] = ['inner', 'left']
type Builder = Parameters<JoinTable<Kind>['topology']>[0]

const joinTable = (joiner: (l: unknown, r: unknown) => string) => (b: Builder, kind: Kind) => {
  const stream = b.stream<unknown, unknown>('left')
  const table = b.table<unknown, unknown>('right')
  ;(kind === 'inner' ? stream.join(table, joiner) : stream.leftJoin(table, joiner)).to('out')
}

const joinGlobalTable =
  (joiner: (l: unknown, r: unknown) => string) => (b: Builder, kind: Kind) => {
    const stream = b.stream<unknown, unknown>('left')
    const table = b.globalTable<unknown, unknown>('right')
    const byKey = (key: unknown) => key
    ;(kind === 'inner'
      ? stream.join(table, byKey, joiner)
      : stream.leftJoin(table, byKey, joiner)
    ).to('out')
  }

const showWithTimestamp = (r: { value: unknown; timestamp: number }) =>
  `${stringify(r.value)}@${r.timestamp}`

describe('KStream-KTable join: the developer guide table', () => {
  // Source: Kafka docs, Streams DSL > Joining > KStream-KTable Join, "Semantics of stream-table
  // joins" (https://kafka.apache.org/documentation/streams/developer-guide/dsl-api.html#kstream-ktable-join,
  // apache/kafka docs/streams/developer-guide/dsl-api.md). All records have the same key; cells
  // are the ValueJoiner's arguments. Only stream records emit; stream records with a null value
  // are dropped. No output timestamps are given: only values are asserted.
  // prettier-ignore
  const table = rowsOf(kinds, [
    //  side key value ts   INNER        LEFT
    ['L', 0, null, 1,   [],          []],
    ['R', 0, null, 2,   [],          []],
    ['L', 0, 'A',  3,   [],          ['[A, null]']],
    ['R', 0, 'a',  4,   [],          []],
    ['L', 0, 'B',  5,   ['[B, a]'],  ['[B, a]']],
    ['R', 0, 'b',  6,   [],          []],
    ['L', 0, null, 7,   [],          []],
    ['R', 0, null, 8,   [],          []],
    ['L', 0, 'C',  9,   [],          ['[C, null]']],
    ['R', 0, 'c',  10,  [],          []],
    ['R', 0, null, 11,  [],          []],
    ['L', 0, null, 12,  [],          []],
    ['R', 0, null, 13,  [],          []],
    ['R', 0, 'd',  14,  [],          []],
    ['L', 0, 'D',  15,  ['[D, d]'],  ['[D, d]']],
  ])
  runJoinTable<Kind>({
    kinds,
    rows: table,
    topology: joinTable(docsJoiner),
    show: (r) => stringify(r.value),
  })
})

// Source: apache/kafka streams/integration-tests/src/test/java/org/apache/kafka/streams/
// integration/StreamTableJoinIntegrationTest.java, testInner / testLeft (unversioned table), over
// AbstractJoinIntegrationTest.input (rows 14-23 are out of order); joiner value1 + "-" + value2.
// Outputs: value@timestamp, key ANY_UNIQUE_KEY = 0; a result keeps the stream record's timestamp.
// prettier-ignore
const integrationTable = rowsOf(kinds, [
  //  side key value ts   INNER         LEFT
  ['L', 0, null, 1,   [],           []],
  ['R', 0, null, 2,   [],           []],
  ['L', 0, 'A',  3,   [],           ['A-null@3']],
  ['R', 0, 'a',  4,   [],           []],
  ['L', 0, 'B',  5,   ['B-a@5'],    ['B-a@5']],
  ['R', 0, 'b',  6,   [],           []],
  ['L', 0, null, 7,   [],           []],
  ['R', 0, null, 8,   [],           []],
  ['L', 0, 'C',  9,   [],           ['C-null@9']],
  ['R', 0, 'c',  10,  [],           []],
  ['R', 0, null, 11,  [],           []],
  ['L', 0, null, 12,  [],           []],
  ['R', 0, null, 13,  [],           []],
  ['R', 0, 'd',  7,   [],           []],
  ['L', 0, 'D',  6,   ['D-d@6'],    ['D-d@6']],
  ['L', 0, null, 2,   [],           []],
  ['R', 0, null, 3,   [],           []],
  ['R', 0, 'e',  14,  [],           []],
  ['L', 0, 'E',  15,  ['E-e@15'],   ['E-e@15']],
  ['L', 0, null, 10,  [],           []],
  ['R', 0, null, 9,   [],           []],
  ['L', 0, 'F',  4,   [],           ['F-null@4']],
  ['R', 0, 'f',  3,   [],           []],
])

describe('KStream-KTable join: StreamTableJoinIntegrationTest (out-of-order input)', () => {
  runJoinTable<Kind>({
    kinds,
    rows: integrationTable,
    topology: joinTable(dashJoiner),
    show: showWithTimestamp,
  })
})

describe('KStream-GlobalKTable join: the StreamTableJoinIntegrationTest table, key selector = key', () => {
  // Kafka has no semantics table of its own for KStream-GlobalKTable joins: the docs (Streams DSL >
  // Joining > KStream-GlobalKTable Join) describe them as KStream-KTable joins whose lookup key a
  // KeyValueMapper picks, and Kafka runs both with the same processor (KStreamKTableJoinProcessor;
  // KStreamGlobalKTableJoin only swaps in the mapper and the global store's value getter). So this
  // is the KStream-KTable table above with the right side read into a GlobalKTable and the
  // mapper (key, value) => key: the expected lists are StreamTableJoinIntegrationTest's.
  runJoinTable<Kind>({
    kinds,
    rows: integrationTable,
    topology: joinGlobalTable(dashJoiner),
    show: showWithTimestamp,
  })
})
