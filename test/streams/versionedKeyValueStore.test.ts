import { describe, expect, test } from 'vitest'
import {
  InvalidArgumentError,
  PUT_RETURN_CODE_NOT_PUT,
  PUT_RETURN_CODE_VALID_TO_UNDEFINED,
  Stores,
  VersionedKeyValueStore,
} from '../../src/index.ts'

// The scenarios of Kafka's RocksDBVersionedStoreTest and the contract in the javadoc of
// VersionedKeyValueStore (KIP-889): versions by timestamp, reads as of a time, history retention
// doubling as the grace period for writes, deletes as tombstone versions.

const HISTORY = 100

function store() {
  return new VersionedKeyValueStore<string, string>('s', HISTORY)
}

describe('VersionedKeyValueStore (RocksDBVersionedStoreTest)', () => {
  test('shouldPutLatest / shouldPutOlderWithNonNullLatest: a version older than the latest goes into the history', () => {
    const s = store()
    expect(s.put('k', 'v10', 10)).toBe(PUT_RETURN_CODE_VALID_TO_UNDEFINED)
    expect(s.put('k', 'v5', 5)).toBe(10) // valid until the version that replaced it
    expect(s.put('k', 'v3', 3)).toBe(5)
    expect(s.get('k')).toEqual({ value: 'v10', timestamp: 10 })
    expect(s.get('k', 12)).toEqual({ value: 'v10', timestamp: 10 })
    expect(s.get('k', 10)).toEqual({ value: 'v10', timestamp: 10 })
    expect(s.get('k', 9)).toEqual({ value: 'v5', timestamp: 5, validTo: 10 })
    expect(s.get('k', 4)).toEqual({ value: 'v3', timestamp: 3, validTo: 5 })
    expect(s.get('k', 2)).toBeNull()
  })

  test('shouldPutRepeatTimestamps: a version at an existing timestamp replaces it', () => {
    const s = store()
    s.put('k', 'a', 10)
    s.put('k', 'b', 20)
    expect(s.put('k', 'a2', 10)).toBe(20)
    expect(s.get('k', 15)).toEqual({ value: 'a2', timestamp: 10, validTo: 20 })
    s.put('k', 'b2', 20)
    expect(s.get('k')).toEqual({ value: 'b2', timestamp: 20 })
  })

  test('shouldNotPutExpired: a write older than the history retention (its grace period) is not put', () => {
    const s = store()
    s.put('k', 'late-stream-time', 500)
    expect(s.put('other', 'x', 500 - HISTORY - 1)).toBe(PUT_RETURN_CODE_NOT_PUT)
    expect(s.get('other')).toBeNull()
    // Exactly at the boundary it is still accepted.
    expect(s.put('other', 'y', 500 - HISTORY)).toBe(PUT_RETURN_CODE_VALID_TO_UNDEFINED)
    expect(s.get('other')).toEqual({ value: 'y', timestamp: 400 })
  })

  test('shouldNotGetExpired: reads further back than the history retention get null; the latest is kept however old', () => {
    const s = store()
    s.put('k', 'old', 10)
    s.put('k', 'new', 50)
    s.put('clock', 'x', 300) // stream time 300: history reaches back to 200
    expect(s.get('k', 60)).toBeNull() // before the retention horizon
    expect(s.get('k')).toEqual({ value: 'new', timestamp: 50 })
    // Still valid at the horizon, so a read at the horizon finds it.
    expect(s.get('k', 200)).toEqual({ value: 'new', timestamp: 50 })
  })

  test('shouldDelete / shouldGetFromOlderSegments: a delete is a version; reads before it see the old value', () => {
    const s = store()
    s.put('k', 'v1', 10)
    s.put('k', 'v2', 20)
    expect(s.delete('k', 30)).toEqual({ value: 'v2', timestamp: 20 })
    expect(s.get('k')).toBeNull()
    expect(s.get('k', 25)).toEqual({ value: 'v2', timestamp: 20, validTo: 30 })
    expect(s.get('k', 35)).toBeNull()
    // An out-of-order delete returns the version valid at its time, and cuts it short.
    expect(s.delete('k', 15)).toEqual({ value: 'v1', timestamp: 10, validTo: 20 })
    expect(s.get('k', 17)).toBeNull()
    expect(s.get('k', 12)).toEqual({ value: 'v1', timestamp: 10, validTo: 15 })
    expect(s.get('k', 22)).toEqual({ value: 'v2', timestamp: 20, validTo: 30 })
  })

  test('all() and range() answer latest values, deleted keys left out', () => {
    const s = store()
    s.put('a', 'a1', 1)
    s.put('b', 'b1', 2)
    s.put('c', 'c1', 3)
    s.delete('b', 4)
    s.put('a', 'a0', 0) // out of order: not the latest
    expect(s.all()).toEqual([
      { key: 'a', value: 'a1' },
      { key: 'c', value: 'c1' },
    ])
    expect(s.range('b', 'c')).toEqual([{ key: 'c', value: 'c1' }])
  })

  test('the changelog gets every version in order, and an out-of-order key its latest again behind it', () => {
    const s = store()
    s.put('k', 'v10', 10)
    s.put('k', 'v5', 5)
    s.delete('j', 7)
    const changes = s.flushChanges()
    expect(changes.map((c) => [c.key, c.entry?.value ?? null, c.timestamp])).toEqual([
      ['k', 'v10', 10],
      ['k', 'v5', 5],
      ['j', null, 7],
      ['k', 'v10', 10], // so the last record of k (what compaction keeps) is its latest
    ])
    expect(s.flushChanges()).toEqual([])
  })

  test('replaying its changelog into an empty store gives the same history back', () => {
    const s = store()
    s.put('k', 'v10', 10)
    s.put('k', 'v5', 5)
    s.put('k', 'v20', 20)
    s.delete('k', 15)
    const restored = store()
    for (const c of s.flushChanges())
      restored.put(c.key, (c.entry?.value as string | undefined) ?? null, c.timestamp)
    for (const t of [4, 5, 9, 10, 14, 15, 19, 20, 21])
      expect(restored.get('k', t), `as of ${t}`).toEqual(s.get('k', t))
  })

  test('a speculative run leaves the store as it was and reports latest values', () => {
    const s = store()
    s.put('k', 'v10', 10)
    s.flushChanges()
    s.beginOverlay()
    s.put('k', 'v20', 20)
    s.put('j', 'j5', 5)
    const changes = s.endOverlay()
    expect(changes).toEqual([
      { key: 'k', entry: { value: 'v20', timestamp: 20 } },
      { key: 'j', entry: { value: 'j5', timestamp: 5 } },
    ])
    expect(s.get('k')).toEqual({ value: 'v10', timestamp: 10 })
    expect(s.get('j')).toBeNull()
    expect(s.flushChanges()).toEqual([])
  })

  test('bad arguments are typed errors', () => {
    expect(() => new VersionedKeyValueStore('s', -1)).toThrow(InvalidArgumentError)
    expect(() => Stores.persistentVersionedKeyValueStore('', 10)).toThrow(InvalidArgumentError)
    expect(() => Stores.persistentVersionedKeyValueStore('s', 1.5)).toThrow(InvalidArgumentError)
    expect(() => store().put('k', 'v', Number.NaN)).toThrow(InvalidArgumentError)
  })
})
