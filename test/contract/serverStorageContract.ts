import { describe, expect, test } from 'vitest'
import type { NewStreamRow, ServerStorage, StoredRecord } from '../../src/server/index.ts'

/**
 * The contract every ServerStorage backend passes (one suite, many backends, as hono's runTest).
 * `reopen` is given for durable backends: it opens the same data again after `close`.
 */
export interface ServerStorageFactory {
  create(): ServerStorage
  reopen?(closed: ServerStorage): ServerStorage
}

const row = (path: string, patch: Partial<NewStreamRow> = {}): NewStreamRow => ({
  path,
  contentType: 'application/json',
  ttlSeconds: null,
  expiresAt: null,
  createdAt: 1,
  lastAccessedAt: 1,
  closed: false,
  closedBy: null,
  nextOffset: 0,
  startOffset: 0,
  lastStreamSeq: null,
  forkedFrom: null,
  forkOffset: null,
  forkRequest: null,
  refCount: 0,
  softDeleted: false,
  topic: null,
  ...patch,
})

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (r: StoredRecord): string => new TextDecoder().decode(r.data)
const records = (from: number, values: string[]): StoredRecord[] =>
  values.map((v, i) => ({
    offset: from + i,
    data: bytes(v),
    batchStart: i === 0,
    timestamp: 100 + i,
    key: `k${v}`,
  }))

export function serverStorageContract(name: string, factory: ServerStorageFactory): void {
  describe(`ServerStorage contract: ${name}`, () => {
    test('stores streams by path and id, lists them by prefix in path order', () => {
      const s = factory.create()
      const b = s.insertStream(row('/t/b'))
      const a = s.insertStream(row('/t/a', { closedBy: { producerId: 'p', epoch: 1, seq: 2 } }))
      s.insertStream(row('/u/c'))
      expect(s.getStream('/t/a')).toEqual(a)
      expect(s.getStreamById(b.id)).toEqual(b)
      expect(s.getStream('/missing')).toBeUndefined()
      expect(s.listStreams('/t/').map((r) => r.path)).toEqual(['/t/a', '/t/b'])
      expect(s.listStreams().map((r) => r.path)).toEqual(['/t/a', '/t/b', '/u/c'])
      s.close()
    })

    test('never reuses an id: a stream recreated at a path is a new stream', () => {
      const s = factory.create()
      const first = s.insertStream(row('/x'))
      s.appendRecords(first.id, records(0, ['old']))
      s.deleteStream(first.id)
      const second = s.insertStream(row('/x'))
      expect(second.id).not.toBe(first.id)
      expect(s.readRecords(second.id, 0, 10, 1e9)).toEqual([])
      expect(s.readRecords(first.id, 0, 10, 1e9)).toEqual([])
      s.close()
    })

    test('reads records in [from, to), stopping at maxBytes but returning at least one', () => {
      const s = factory.create()
      const { id } = s.insertStream(row('/r'))
      s.appendRecords(id, records(0, ['aaaa', 'bbbb', 'cccc', 'dddd']))
      expect(s.readRecords(id, 1, 3, 1e9).map(text)).toEqual(['bbbb', 'cccc'])
      expect(s.readRecords(id, 0, 10, 6).map(text)).toEqual(['aaaa', 'bbbb'])
      expect(s.readRecords(id, 2, 10, 1).map(text)).toEqual(['cccc'])
      const [first] = s.readRecords(id, 0, 1, 1e9)
      expect(first).toMatchObject({ offset: 0, batchStart: true, timestamp: 100, key: 'kaaaa' })
      s.close()
    })

    test('deletes records below an offset and at given offsets, keeping the others’ offsets', () => {
      const s = factory.create()
      const { id } = s.insertStream(row('/d'))
      s.appendRecords(id, records(0, ['a', 'b', 'c', 'd', 'e']))
      s.deleteRecordsBelow(id, 2)
      s.deleteRecords(id, [3])
      expect(s.readRecords(id, 0, 10, 1e9).map((r) => [r.offset, text(r)])).toEqual([
        [2, 'c'],
        [4, 'e'],
      ])
      s.close()
    })

    test('deletions across several appends keep every other record readable at its offset', () => {
      const s = factory.create()
      const { id } = s.insertStream(row('/many'))
      s.appendRecords(id, records(0, ['a', 'b', 'c']))
      s.appendRecords(id, records(3, ['d', 'e', 'f']))
      s.appendRecords(id, records(6, ['g', 'h', 'i']))
      s.deleteRecords(id, [5, 1, 4, 99, 4])
      const all = () => s.readRecords(id, 0, 100, 1e9).map((r) => `${r.offset}${text(r)}`)
      expect(all()).toEqual(['0a', '2c', '3d', '6g', '7h', '8i'])
      expect(s.readRecords(id, 4, 8, 1e9).map((r) => r.offset)).toEqual([6, 7])
      expect(s.readRecords(id, 1, 100, 2).map((r) => r.offset)).toEqual([2, 3])
      s.deleteRecordsBelow(id, 7)
      expect(all()).toEqual(['7h', '8i'])
      s.deleteRecords(id, [7, 8])
      expect(all()).toEqual([])
      s.appendRecords(id, records(9, ['j']))
      expect(all()).toEqual(['9j'])
      expect(s.readRecords(id, 0, 100, 1e9)[0]).toMatchObject({ batchStart: true, key: 'kj' })
      s.close()
    })

    test('keeps producer state per stream, and drops it with the stream', () => {
      const s = factory.create()
      const one = s.insertStream(row('/p1'))
      const two = s.insertStream(row('/p2'))
      s.putProducer(one.id, 'w', { epoch: 2, lastSeq: 7, updatedAt: 5 })
      s.putProducer(one.id, 'w', { epoch: 2, lastSeq: 8, updatedAt: 6 })
      expect(s.getProducer(one.id, 'w')).toEqual({ epoch: 2, lastSeq: 8, updatedAt: 6 })
      expect(s.getProducer(two.id, 'w')).toBeUndefined()
      s.deleteStream(one.id)
      expect(s.getProducer(one.id, 'w')).toBeUndefined()
      s.close()
    })

    test('a transaction that throws leaves nothing written', () => {
      const s = factory.create()
      const stream = s.insertStream(row('/tx'))
      s.appendRecords(stream.id, records(0, ['kept']))
      expect(() =>
        s.transaction(() => {
          s.appendRecords(stream.id, records(1, ['lost']))
          s.updateStream({ ...stream, nextOffset: 2 })
          s.putProducer(stream.id, 'w', { epoch: 0, lastSeq: 0, updatedAt: 1 })
          s.insertStream(row('/tx2'))
          s.deleteRecordsBelow(stream.id, 1)
          s.transaction(() => s.deleteStream(stream.id)) // nested: part of the outer one
          throw new Error('boom')
        }),
      ).toThrow('boom')
      expect(s.getStream('/tx')).toEqual(stream)
      expect(s.getStream('/tx2')).toBeUndefined()
      expect(s.readRecords(stream.id, 0, 10, 1e9).map(text)).toEqual(['kept'])
      expect(s.getProducer(stream.id, 'w')).toBeUndefined()
      s.close()
    })

    test('a nested transaction that throws undoes only its own writes (a savepoint)', () => {
      const s = factory.create()
      const stream = s.insertStream(row('/save'))
      s.transaction(() => {
        s.appendRecords(stream.id, records(0, ['before']))
        expect(() =>
          s.transaction(() => {
            s.appendRecords(stream.id, records(1, ['inner']))
            s.putProducer(stream.id, 'w', { epoch: 0, lastSeq: 0, updatedAt: 1 })
            s.updateStream({ ...stream, nextOffset: 2 })
            throw new Error('inner')
          }),
        ).toThrow('inner')
        s.appendRecords(stream.id, records(1, ['after']))
        s.updateStream({ ...stream, nextOffset: 2 })
      })
      expect(s.readRecords(stream.id, 0, 10, 1e9).map(text)).toEqual(['before', 'after'])
      expect(s.getProducer(stream.id, 'w')).toBeUndefined()
      expect(s.getStream('/save')?.nextOffset).toBe(2)
      s.close()
    })

    test('a transaction that returns commits all its writes and returns its value', () => {
      const s = factory.create()
      const stream = s.insertStream(row('/ok'))
      const result = s.transaction(() => {
        s.appendRecords(stream.id, records(0, ['a', 'b']))
        s.updateStream({ ...stream, nextOffset: 2, closed: true })
        return 'done'
      })
      expect(result).toBe('done')
      expect(s.getStream('/ok')).toMatchObject({ nextOffset: 2, closed: true })
      expect(s.readRecords(stream.id, 0, 10, 1e9)).toHaveLength(2)
      s.close()
    })

    if (factory.reopen) {
      const reopen = factory.reopen
      test('committed streams, records and producer state survive a reopen', () => {
        const s = factory.create()
        const stream = s.insertStream(row('/durable', { topic: '{"config":{}}' }))
        s.transaction(() => {
          s.appendRecords(stream.id, records(0, ['x', 'y']))
          s.updateStream({ ...stream, nextOffset: 2 })
          s.putProducer(stream.id, 'w', { epoch: 1, lastSeq: 3, updatedAt: 9 })
        })
        s.close()
        const again = reopen(s)
        expect(again.getStream('/durable')).toEqual({ ...stream, nextOffset: 2 })
        expect(again.readRecords(stream.id, 0, 10, 1e9).map(text)).toEqual(['x', 'y'])
        expect(again.getProducer(stream.id, 'w')).toEqual({ epoch: 1, lastSeq: 3, updatedAt: 9 })
        expect(again.insertStream(row('/next')).id).toBeGreaterThan(stream.id)
        again.close()
      })
    }
  })
}
