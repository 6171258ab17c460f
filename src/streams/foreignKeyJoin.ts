import { keyId, type KeyValueStore } from './KeyValueStore.ts'
import { createNode, type Change, type ProcessorNode } from './processor.ts'
import type { Topology } from './Topology.ts'

/**
 * Table-table foreign-key join (Kafka's KIP-213): each row of the left table points, through
 * `extract`, at a row of the right table; results are keyed by the left key. A left update joins
 * against the right row it now points at; a right update re-joins every left row pointing at it.
 * Inner joins have no row while the right side is missing; left joins join with null.
 *
 * The index from foreign key to left keys is derived from the left table's store, so it is rebuilt
 * after a restore rather than stored. As in Kafka, a left row that changes and joins nothing emits
 * a tombstone even when it had no result before (a consumer cannot tell otherwise that the row's
 * previous result, if any, is gone); a new left row that joins nothing emits nothing.
 */
export function foreignKeyJoin(
  names: { left: string; right: string },
  stores: { left: KeyValueStore; right: KeyValueStore; result: KeyValueStore },
  extract: (value: unknown) => unknown,
  joiner: (left: unknown, right: unknown) => unknown,
  kind: 'inner' | 'left',
  topology: Topology,
): { left: ProcessorNode; right: ProcessorNode; out: ProcessorNode } {
  const index = new Map<string, Map<string, unknown>>()
  const link = (fk: unknown, key: unknown) => {
    if (fk === null || fk === undefined) return
    const id = keyId(fk)
    const keys = index.get(id) ?? new Map<string, unknown>()
    keys.set(keyId(key), key)
    index.set(id, keys)
  }
  const unlink = (fk: unknown, key: unknown) => {
    if (fk === null || fk === undefined) return
    index.get(keyId(fk))?.delete(keyId(key))
  }
  topology.onRestore(() => {
    index.clear()
    for (const { key, value } of stores.left.all()) link(extract(value), key)
  })
  const out = createNode(`${names.left}-MERGE`, (r, emit) => emit(r))

  /** Sets a left key's result and forwards the change, unless nothing changed to report. */
  const update = (
    key: unknown,
    value: unknown,
    timestamp: number,
    template: Parameters<ProcessorNode['process']>[0],
    tombstoneAnyway = false,
  ) => {
    const old = stores.result.get(key)
    if (value === null && old === null && !tombstoneAnyway) return
    stores.result.put(key, value, timestamp)
    out.process({
      ...template,
      key,
      timestamp,
      value: { newValue: value, oldValue: old } satisfies Change<unknown>,
    })
  }
  const result = (leftValue: unknown, rightValue: unknown) =>
    leftValue === null
      ? null
      : rightValue === null && kind === 'inner'
        ? null
        : joiner(leftValue, rightValue)

  const left = createNode(names.left, (r) => {
    const change = r.value as Change<unknown>
    const oldFk = change.oldValue === null ? null : extract(change.oldValue)
    const newFk = change.newValue === null ? null : extract(change.newValue)
    unlink(oldFk, r.key)
    link(newFk, r.key)
    const rightValue = newFk === null || newFk === undefined ? null : stores.right.get(newFk)
    update(r.key, result(change.newValue, rightValue), r.timestamp, r, change.oldValue !== null)
  })
  const right = createNode(names.right, (r) => {
    const change = r.value as Change<unknown>
    for (const key of index.get(keyId(r.key))?.values() ?? []) {
      update(key, result(stores.left.get(key), change.newValue), r.timestamp, r)
    }
  })
  return { left, right, out }
}
