// Kafka's KStream-KStream join semantics, table by table (see joinSemantics.harness.ts).
import { describe } from 'vitest'
import { JoinWindows, type KStream } from '../../src/index.ts'
import {
  dashJoiner,
  docsJoiner,
  rowsOf,
  runJoinTable,
  stringify,
  type JoinTable,
} from './joinSemantics.harness.ts'

type Kind = 'inner' | 'left' | 'outer'
const kinds: readonly Kind[] = ['inner', 'left', 'outer']

const joinStreams =
  (windows: JoinWindows, joiner: (l: unknown, r: unknown) => string) =>
  (builder: Parameters<JoinTable<Kind>['topology']>[0], kind: Kind) => {
    const left = builder.stream<unknown, unknown>('left')
    const right = builder.stream<unknown, unknown>('right')
    const joined: KStream<unknown, string> =
      kind === 'inner'
        ? left.join(right, joiner, windows)
        : kind === 'left'
          ? left.leftJoin(right, joiner, windows)
          : left.outerJoin(right, joiner, windows)
    joined.to('out')
  }

describe('KStream-KStream join: the developer guide table (window 10, grace 5)', () => {
  // Source: Kafka docs, Streams DSL > Joining > KStream-KStream Join, "Semantics of stream-stream
  // joins" (https://kafka.apache.org/documentation/streams/developer-guide/dsl-api.html#kstream-kstream-join,
  // apache/kafka docs/streams/developer-guide/dsl-api.md). "We assume a join window size of 10
  // seconds with a grace period of 5 seconds"; all records have the same key; cells are the
  // ValueJoiner's arguments ([A, null]: a left/outer result for an unmatched record); timestamps
  // are not given for outputs, so only values are asserted. Since Kafka 3.1 (KIP-633, the
  // spurious left/outer results fix) an unmatched record is joined with null only once its window
  // has closed (timestamp + 10 + 5 < stream time): rows 3, 60, 80 and 100.
  //
  // Rows 14 and 15: the docs print [A, d] and [D, a], but A@3 and d@14 (and a@4 and D@15) are 11
  // apart, outside a 10 ms window: the docs' rows 1-15 assume all records fall in one window. The
  // cells below are what Kafka's window condition (|t1 - t2| <= 10) gives: [B, d], [C, d] and
  // [D, b], [D, c], [D, d]. (A, a and d are joined before, so nothing is emitted for them later.)
  // prettier-ignore
  const table = rowsOf(kinds, [
    //  side key value  ts    INNER                                   LEFT                                    OUTER
    ['L', 0, null,  1,   [],                                     [],                                     []],
    ['R', 0, null,  2,   [],                                     [],                                     []],
    ['L', 0, 'A',   3,   [],                                     [],                                     []],
    ['R', 0, 'a',   4,   ['[A, a]'],                             ['[A, a]'],                             ['[A, a]']],
    ['L', 0, 'B',   5,   ['[B, a]'],                             ['[B, a]'],                             ['[B, a]']],
    ['R', 0, 'b',   6,   ['[A, b]', '[B, b]'],                   ['[A, b]', '[B, b]'],                   ['[A, b]', '[B, b]']],
    ['L', 0, null,  7,   [],                                     [],                                     []],
    ['R', 0, null,  8,   [],                                     [],                                     []],
    ['L', 0, 'C',   9,   ['[C, a]', '[C, b]'],                   ['[C, a]', '[C, b]'],                   ['[C, a]', '[C, b]']],
    ['R', 0, 'c',   10,  ['[A, c]', '[B, c]', '[C, c]'],         ['[A, c]', '[B, c]', '[C, c]'],         ['[A, c]', '[B, c]', '[C, c]']],
    ['R', 0, null,  11,  [],                                     [],                                     []],
    ['L', 0, null,  12,  [],                                     [],                                     []],
    ['R', 0, null,  13,  [],                                     [],                                     []],
    ['R', 0, 'd',   14,  ['[B, d]', '[C, d]'],                   ['[B, d]', '[C, d]'],                   ['[B, d]', '[C, d]']],
    ['L', 0, 'D',   15,  ['[D, b]', '[D, c]', '[D, d]'],         ['[D, b]', '[D, c]', '[D, d]'],         ['[D, b]', '[D, c]', '[D, d]']],
    ['L', 0, 'E',   40,  [],                                     [],                                     []],
    ['L', 0, 'F',   60,  [],                                     ['[E, null]'],                          ['[E, null]']],
    ['R', 0, 'f',   80,  [],                                     ['[F, null]'],                          ['[F, null]']],
    ['L', 0, 'G',   100, [],                                     [],                                     ['[null, f]']],
  ])
  runJoinTable<Kind>({
    kinds,
    rows: table,
    topology: joinStreams(JoinWindows.ofTimeDifferenceAndGrace(10, 5), docsJoiner),
    show: (r) => stringify(r.value),
  })
})

describe('KStream-KStream join: StreamStreamJoinIntegrationTest (window 10 s, grace 24 h)', () => {
  // Source: apache/kafka streams/integration-tests/src/test/java/org/apache/kafka/streams/
  // integration/StreamStreamJoinIntegrationTest.java, testInner / testLeft / testOuter (caching
  // off), over AbstractJoinIntegrationTest.inputWithoutOutOfOrderData; joiner value1 + "-" + value2;
  // JoinWindows.ofTimeDifferenceAndGrace(ofSeconds(10), ofHours(24)). Kafka adds a base timestamp
  // to every input and expected timestamp; here the base is 0. Outputs: value@timestamp, keyed
  // ANY_UNIQUE_KEY = 0 unless shown as key=... The grace of 24 h keeps every window open, so no
  // unmatched record is ever joined with null, except null-key records (rows 16, 17): since Kafka
  // 3.7 (KIP-962) a left/outer stream-stream join does not drop a null-key record but joins it
  // with null at once (it can never match).
  const show = (r: { key: unknown; value: unknown; timestamp: number }) =>
    `${r.key === 0 ? '' : `key=${stringify(r.key)} `}${stringify(r.value)}@${r.timestamp}`
  // prettier-ignore
  const table = rowsOf(kinds, [
    //  side key   value ts   INNER                                       LEFT                                        OUTER
    ['L', 0,    null, 1,   [],                                         [],                                         []],
    ['R', 0,    null, 2,   [],                                         [],                                         []],
    ['L', 0,    'A',  3,   [],                                         [],                                         []],
    ['R', 0,    'a',  4,   ['A-a@4'],                                  ['A-a@4'],                                  ['A-a@4']],
    ['L', 0,    'B',  5,   ['B-a@5'],                                  ['B-a@5'],                                  ['B-a@5']],
    ['R', 0,    'b',  6,   ['A-b@6', 'B-b@6'],                         ['A-b@6', 'B-b@6'],                         ['A-b@6', 'B-b@6']],
    ['L', 0,    null, 7,   [],                                         [],                                         []],
    ['R', 0,    null, 8,   [],                                         [],                                         []],
    ['L', 0,    'C',  9,   ['C-a@9', 'C-b@9'],                         ['C-a@9', 'C-b@9'],                         ['C-a@9', 'C-b@9']],
    ['R', 0,    'c',  10,  ['A-c@10', 'B-c@10', 'C-c@10'],             ['A-c@10', 'B-c@10', 'C-c@10'],             ['A-c@10', 'B-c@10', 'C-c@10']],
    ['R', 0,    null, 11,  [],                                         [],                                         []],
    ['L', 0,    null, 12,  [],                                         [],                                         []],
    ['R', 0,    null, 13,  [],                                         [],                                         []],
    ['R', 0,    'd',  14,  ['A-d@14', 'B-d@14', 'C-d@14'],             ['A-d@14', 'B-d@14', 'C-d@14'],             ['A-d@14', 'B-d@14', 'C-d@14']],
    ['L', 0,    'D',  15,  ['D-a@15', 'D-b@15', 'D-c@15', 'D-d@15'],   ['D-a@15', 'D-b@15', 'D-c@15', 'D-d@15'],   ['D-a@15', 'D-b@15', 'D-c@15', 'D-d@15']],
    ['L', null, 'E',  16,  [],                                         ['key=null E-null@16'],                     ['key=null E-null@16']],
    ['R', null, 'e',  17,  [],                                         [],                                         ['key=null null-e@17']],
  ])
  runJoinTable<Kind>({
    kinds,
    rows: table,
    topology: joinStreams(
      JoinWindows.ofTimeDifferenceAndGrace(10_000, 24 * 60 * 60 * 1000),
      dashJoiner,
    ),
    show,
  })
})

/** 'A-a B-a' at 4 -> ['A-a@4', 'B-a@4']: several results of one row, all at one timestamp. */
const at = (ts: number, values: string) => values.split(' ').map((v) => `${v}@${ts}`)
const showOut = (r: { value: unknown; timestamp: number }) => `${stringify(r.value)}@${r.timestamp}`

describe('KStream-KStream self-join: StreamStreamJoinIntegrationTest.testSelfJoin', () => {
  // Source: apache/kafka StreamStreamJoinIntegrationTest.testSelfJoin, over
  // AbstractJoinIntegrationTest.leftInput (one topic, timestamps 1..7):
  // leftStream.join(leftStream, valueJoiner, ofTimeDifferenceAndGrace(10 s, 24 h)). Each record
  // joins every earlier record in both directions, and itself.
  // prettier-ignore
  const table = rowsOf(['inner'] as const, [
    //  side key value ts  INNER
    ['L', 0, null, 1,  []],
    ['L', 0, 'A',  2,  at(2, 'A-A')],
    ['L', 0, 'B',  3,  at(3, 'B-A A-B B-B')],
    ['L', 0, null, 4,  []],
    ['L', 0, 'C',  5,  at(5, 'C-A C-B A-C B-C C-C')],
    ['L', 0, null, 6,  []],
    ['L', 0, 'D',  7,  at(7, 'D-A D-B D-C A-D B-D C-D D-D')],
  ])
  runJoinTable({
    kinds: ['inner'] as const,
    rows: table,
    topology: (builder) => {
      const stream = builder.stream<unknown, unknown>('left')
      stream
        .join(stream, dashJoiner, JoinWindows.ofTimeDifferenceAndGrace(10_000, 24 * 3_600_000))
        .to('out')
    },
    show: showOut,
  })
})

describe('KStream-KStream chained inner joins: StreamStreamJoinIntegrationTest.testMultiInner', () => {
  // Source: apache/kafka StreamStreamJoinIntegrationTest.testMultiInner, over
  // inputWithoutOutOfOrderData: leftStream.join(rightStream, ...).join(rightStream, ...), both with
  // ofTimeDifferenceAndGrace(10 s, 24 h). The right stream feeds both joins, the first join first:
  // the order of results within a row follows from that.
  // prettier-ignore
  const table = rowsOf(['inner'] as const, [
    //  side key   value ts   INNER
    ['L', 0,    null, 1,   []],
    ['R', 0,    null, 2,   []],
    ['L', 0,    'A',  3,   []],
    ['R', 0,    'a',  4,   at(4, 'A-a-a')],
    ['L', 0,    'B',  5,   at(5, 'B-a-a')],
    ['R', 0,    'b',  6,   at(6, 'A-b-a B-b-a A-a-b B-a-b A-b-b B-b-b')],
    ['L', 0,    null, 7,   []],
    ['R', 0,    null, 8,   []],
    ['L', 0,    'C',  9,   at(9, 'C-a-a C-a-b C-b-a C-b-b')],
    ['R', 0,    'c',  10,  at(10, 'A-c-a A-c-b B-c-a B-c-b C-c-a C-c-b A-a-c B-a-c A-b-c B-b-c C-a-c C-b-c A-c-c B-c-c C-c-c')],
    ['R', 0,    null, 11,  []],
    ['L', 0,    null, 12,  []],
    ['R', 0,    null, 13,  []],
    ['R', 0,    'd',  14,  at(14, 'A-d-a A-d-b A-d-c B-d-a B-d-b B-d-c C-d-a C-d-b C-d-c A-a-d B-a-d A-b-d B-b-d C-a-d C-b-d A-c-d B-c-d C-c-d A-d-d B-d-d C-d-d')],
    ['L', 0,    'D',  15,  at(15, 'D-a-a D-a-b D-a-c D-a-d D-b-a D-b-b D-b-c D-b-d D-c-a D-c-b D-c-c D-c-d D-d-a D-d-b D-d-c D-d-d')],
    ['L', null, 'E',  16,  []],
    ['R', null, 'e',  17,  []],
  ])
  runJoinTable({
    kinds: ['inner'] as const,
    rows: table,
    topology: (builder) => {
      const windows = JoinWindows.ofTimeDifferenceAndGrace(10_000, 24 * 3_600_000)
      const right = builder.stream<unknown, unknown>('right')
      builder
        .stream<unknown, unknown>('left')
        .join(right, dashJoiner, windows)
        .join(right, dashJoiner, windows)
        .to('out')
    },
    show: showOut,
  })
})

describe('KStream-KStream outer join: when unmatched records come out (KStreamKStreamOuterJoinTest)', () => {
  // Source: apache/kafka streams/src/test/java/org/apache/kafka/streams/kstream/internals/
  // KStreamKStreamOuterJoinTest.java, testOrdering and testGracePeriod (joiner value1 + "+" +
  // value2; outputs key:value@timestamp). Since KIP-633 Kafka emits the unmatched records whose
  // window has closed *before* it joins the record that closed them (testOrdering: A0+null, then
  // A1+a1), and emits them from one store ordered by timestamp, then side, right side first
  // (testGracePeriod: null+a1, then A0+null, both at 0).
  const show = (r: { key: unknown; value: unknown; timestamp: number }) =>
    `${stringify(r.key)}:${stringify(r.value)}@${r.timestamp}`
  const plusJoiner = (l: unknown, r: unknown) => `${String(l)}+${String(r)}`
  const outer =
    (windows: JoinWindows) => (builder: Parameters<JoinTable<'outer'>['topology']>[0]) =>
      builder
        .stream<unknown, unknown>('left')
        .outerJoin(builder.stream<unknown, unknown>('right'), plusJoiner, windows)
        .to('out')

  describe('testOrdering: ofTimeDifferenceWithNoGrace(100)', () => {
    // prettier-ignore
    const table = rowsOf(['outer'] as const, [
      //  side key value ts   OUTER
      ['L', 0, 'A0', 0,   []],
      ['L', 1, 'A1', 100, []],
      ['R', 1, 'a1', 110, ['0:A0+null@0', '1:A1+a1@110']],
    ])
    runJoinTable({
      kinds: ['outer'] as const,
      rows: table,
      topology: outer(JoinWindows.ofTimeDifferenceWithNoGrace(100)),
      show,
    })
  })

  describe('testGracePeriod: ofTimeDifferenceAndGrace(100, 10)', () => {
    // prettier-ignore
    const table = rowsOf(['outer'] as const, [
      //  side key value    ts   OUTER
      ['L', 0, 'A0',    0,   []],
      ['R', 1, 'a1',    0,   []],
      ['R', 0, 'a0',    101, []],
      ['L', 1, 'A1',    101, []],
      ['R', 0, 'dummy', 211, ['1:null+a1@0', '0:A0+null@0']],
    ])
    runJoinTable({
      kinds: ['outer'] as const,
      rows: table,
      topology: outer(JoinWindows.ofTimeDifferenceAndGrace(100, 10)),
      show,
    })
  })
})
