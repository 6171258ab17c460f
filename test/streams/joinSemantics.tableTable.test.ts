// Kafka's KTable-KTable join semantics (equi-joins and foreign-key joins), table by table (see
// joinSemantics.harness.ts).
import { describe, expect } from 'vitest'
import type { KeyValueStore } from '../../src/index.ts'
import {
  dashJoiner,
  docsJoiner,
  rowsOf,
  runJoinTable,
  stringify,
  type JoinTable,
  type Row,
} from './joinSemantics.harness.ts'

type Kind = 'inner' | 'left' | 'outer'
const kinds: readonly Kind[] = ['inner', 'left', 'outer']

const joinTables =
  (joiner: (l: unknown, r: unknown) => string) =>
  (builder: Parameters<JoinTable<Kind>['topology']>[0], kind: Kind) => {
    const left = builder.table<unknown, unknown>('left')
    const right = builder.table<unknown, unknown>('right')
    const options = { materialized: 'joined' }
    const joined =
      kind === 'inner'
        ? left.join(right, joiner, options)
        : kind === 'left'
          ? left.leftJoin(right, joiner, options)
          : left.outerJoin(right, joiner, options)
    joined.toStream().to('out')
  }

describe('KTable-KTable equi-join: the developer guide table', () => {
  // Source: Kafka docs, Streams DSL > Joining > KTable-KTable Equi-Join, "Semantics of table-table
  // equi-joins" (https://kafka.apache.org/documentation/streams/developer-guide/dsl-api.html#ktable-ktable-equi-join,
  // apache/kafka docs/streams/developer-guide/dsl-api.md). All records have the same key; cells
  // are the ValueJoiner's arguments, and "null" is a tombstone (the joined row is deleted).
  // Timestamps of outputs are not given: only values are asserted.
  // prettier-ignore
  const table = rowsOf(kinds, [
    //  side key value ts   INNER         LEFT           OUTER
    ['L', 0, null, 1,   [],           [],            []],
    ['R', 0, null, 2,   [],           [],            []],
    ['L', 0, 'A',  3,   [],           ['[A, null]'], ['[A, null]']],
    ['R', 0, 'a',  4,   ['[A, a]'],   ['[A, a]'],    ['[A, a]']],
    ['L', 0, 'B',  5,   ['[B, a]'],   ['[B, a]'],    ['[B, a]']],
    ['R', 0, 'b',  6,   ['[B, b]'],   ['[B, b]'],    ['[B, b]']],
    ['L', 0, null, 7,   ['null'],     ['null'],      ['[null, b]']],
    ['R', 0, null, 8,   [],           [],            ['null']],
    ['L', 0, 'C',  9,   [],           ['[C, null]'], ['[C, null]']],
    ['R', 0, 'c',  10,  ['[C, c]'],   ['[C, c]'],    ['[C, c]']],
    ['R', 0, null, 11,  ['null'],     ['[C, null]'], ['[C, null]']],
    ['L', 0, null, 12,  [],           ['null'],      ['null']],
    ['R', 0, null, 13,  [],           [],            []],
    ['R', 0, 'd',  14,  [],           [],            ['[null, d]']],
    ['L', 0, 'D',  15,  ['[D, d]'],   ['[D, d]'],    ['[D, d]']],
  ])
  runJoinTable<Kind>({
    kinds,
    rows: table,
    topology: joinTables(docsJoiner),
    show: (r) => stringify(r.value),
  })
})

describe('KTable-KTable equi-join: TableTableJoinIntegrationTest (caching off, out-of-order input)', () => {
  // Source: apache/kafka streams/integration-tests/src/test/java/org/apache/kafka/streams/
  // integration/TableTableJoinIntegrationTest.java, testInner / testLeft / testOuter with
  // cacheEnabled = false (unversioned stores), over AbstractJoinIntegrationTest.input (rows 14-23
  // are out of order); joiner value1 + "-" + value2; the join is materialized and its toStream()
  // written out. Outputs: value@timestamp ("null" is a tombstone), key ANY_UNIQUE_KEY = 0. A
  // joined record's timestamp is the larger of the two sides' timestamps (rows 15, 16, 20, 23);
  // a result with the other side absent keeps the input's timestamp (row 17).
  // prettier-ignore
  const table = rowsOf(kinds, [
    //  side key value ts   INNER          LEFT            OUTER
    ['L', 0, null, 1,   [],            [],             []],
    ['R', 0, null, 2,   [],            [],             []],
    ['L', 0, 'A',  3,   [],            ['A-null@3'],   ['A-null@3']],
    ['R', 0, 'a',  4,   ['A-a@4'],     ['A-a@4'],      ['A-a@4']],
    ['L', 0, 'B',  5,   ['B-a@5'],     ['B-a@5'],      ['B-a@5']],
    ['R', 0, 'b',  6,   ['B-b@6'],     ['B-b@6'],      ['B-b@6']],
    ['L', 0, null, 7,   ['null@7'],    ['null@7'],     ['null-b@7']],
    ['R', 0, null, 8,   [],            [],             ['null@8']],
    ['L', 0, 'C',  9,   [],            ['C-null@9'],   ['C-null@9']],
    ['R', 0, 'c',  10,  ['C-c@10'],    ['C-c@10'],     ['C-c@10']],
    ['R', 0, null, 11,  ['null@11'],   ['C-null@11'],  ['C-null@11']],
    ['L', 0, null, 12,  [],            ['null@12'],    ['null@12']],
    ['R', 0, null, 13,  [],            [],             []],
    ['R', 0, 'd',  7,   [],            [],             ['null-d@7']],
    ['L', 0, 'D',  6,   ['D-d@7'],     ['D-d@7'],      ['D-d@7']],
    ['L', 0, null, 2,   ['null@7'],    ['null@7'],     ['null-d@7']],
    ['R', 0, null, 3,   [],            [],             ['null@3']],
    ['R', 0, 'e',  14,  [],            [],             ['null-e@14']],
    ['L', 0, 'E',  15,  ['E-e@15'],    ['E-e@15'],     ['E-e@15']],
    ['L', 0, null, 10,  ['null@14'],   ['null@14'],    ['null-e@14']],
    ['R', 0, null, 9,   [],            [],             ['null@9']],
    ['L', 0, 'F',  4,   [],            ['F-null@4'],   ['F-null@4']],
    ['R', 0, 'f',  3,   ['F-f@4'],     ['F-f@4'],      ['F-f@4']],
  ])
  runJoinTable<Kind>({
    kinds,
    rows: table,
    topology: joinTables(dashJoiner),
    show: (r) => `${stringify(r.value)}@${r.timestamp}`,
    // checkQueryableStore: the materialized join holds exactly one row, F-f at timestamp 4.
    afterTitle: 'the materialized result store holds 0 -> F-f@4 (checkQueryableStore)',
    after: (driver) => {
      const store = driver.getKeyValueStore('joined') as unknown as KeyValueStore<number, string>
      expect(store.all().map(({ key, value }) => `${key}=${value}`)).toEqual(['0=F-f'])
      expect(store.getWithTimestamp(0)?.timestamp).toBe(4)
    },
  })
})

describe('KTable-KTable foreign-key join: the developer guide table (KIP-213)', () => {
  // Source: Kafka docs, Streams DSL > Joining > KTable-KTable Foreign-Key Join, "Semantics of
  // table-table foreign-key joins" (https://kafka.apache.org/documentation/streams/developer-guide/dsl-api.html#ktable-ktable-fk-join,
  // apache/kafka docs/streams/developer-guide/dsl-api.md; the table of KIP-213). The foreign-key
  // extractor is the left value itself; records go in offset order (timestamp = offset here; the
  // docs give no output timestamps). Outputs: (key,fk,right) is the joined value, (key,null) a
  // tombstone.
  // - Row 1 holds a left and a right record; the right one goes first, since the LEFT column has
  //   only (k,1,foo) (left first would also emit (k,1,null)).
  // - Row 3, INNER: Kafka emits a second tombstone (k,null) although k has no result since row 2:
  //   the left row changed foreign key, so its subscription is sent with
  //   PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE and the response joins to null.
  // - Row 5: (k,null) is a left tombstone (the extractor is the value, and a null value deletes the
  //   row). The docs print (k,null,null) in the LEFT column; Kafka's ResponseJoinProcessorSupplier
  //   emits a tombstone when the left row is gone ("rightValue == null && (!leftJoin ||
  //   currentValueWithTimestamp == null)"), so both columns are the tombstone (k,null).
  type FkKind = 'inner' | 'left'
  const fkKinds: readonly FkKind[] = ['inner', 'left']
  const row = (
    inputs: Row<FkKind>['inputs'],
    inner: readonly string[],
    left: readonly string[],
  ): Row<FkKind> => ({ inputs, out: { inner, left } })
  // prettier-ignore
  const table: Row<FkKind>[] = [
    //   inputs (offset = timestamp)                     INNER                          LEFT
    row([['R', 1, 'foo', 1], ['L', 'k', 1, 1]],        ['(k,1,foo)'],                 ['(k,1,foo)']),
    row([['L', 'k', 2, 2]],                            ['(k,null)'],                  ['(k,2,null)']),
    row([['L', 'k', 3, 3]],                            ['(k,null)'],                  ['(k,3,null)']),
    row([['R', 3, 'bar', 4]],                          ['(k,3,bar)'],                 ['(k,3,bar)']),
    row([['L', 'k', null, 5]],                         ['(k,null)'],                  ['(k,null)']),
    row([['L', 'k', 1, 6]],                            ['(k,1,foo)'],                 ['(k,1,foo)']),
    row([['L', 'q', 10, 7]],                           [],                            ['(q,10,null)']),
    row([['L', 'r', 10, 8]],                           [],                            ['(r,10,null)']),
    row([['R', 10, 'baz', 9]],                         ['(q,10,baz)', '(r,10,baz)'],  ['(q,10,baz)', '(r,10,baz)']),
  ]
  runJoinTable<FkKind>({
    kinds: fkKinds,
    rows: table,
    topology: (builder, kind) => {
      const left = builder.table<string, number>('left')
      const right = builder.table<number, string>('right')
      left
        .joinOnForeignKey(
          right,
          (fk) => fk,
          (fk, r) => `${fk},${String(r)}`,
          { kind, materialized: 'joined' },
        )
        .toStream()
        .to('out')
    },
    show: (r) => `(${stringify(r.key)},${stringify(r.value)})`,
  })
})
