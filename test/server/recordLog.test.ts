import { expect, test } from 'vitest'
import type { StoredRecord } from '../../src/server/engine/streamRows.ts'
import { RecordLog } from '../../src/server/engines/memory/RecordLog.ts'

// The memory storage packs each append's records into one chunk; reads must give back exactly
// the records appended, whichever chunk and position they start in.
const record = (offset: number, text: string, extra: Partial<StoredRecord> = {}): StoredRecord => ({
  offset,
  data: new TextEncoder().encode(text),
  batchStart: false,
  timestamp: 7,
  key: null,
  ...extra,
})
const texts = (records: StoredRecord[]) => records.map((r) => new TextDecoder().decode(r.data))

function threeAppends(): RecordLog {
  const log = new RecordLog()
  log.append([record(0, 'a', { batchStart: true }), record(1, 'bb'), record(2, 'ccc')])
  log.append([
    record(3, 'd', { batchStart: true, timestamp: 9, key: 'k' }),
    record(4, 'ee', { timestamp: 10 }),
  ])
  log.append([record(5, 'f', { batchStart: true }), record(6, 'g', { batchStart: true })])
  return log
}

test('reads from inside one append across the next ones, up to `to`', () => {
  expect(texts(threeAppends().read(1, 6, 1e9))).toEqual(['bb', 'ccc', 'd', 'ee', 'f'])
  expect(texts(threeAppends().read(4, 100, 1e9))).toEqual(['ee', 'f', 'g'])
  expect(threeAppends().read(7, 100, 1e9)).toEqual([])
})

test('stops once the data reaches maxBytes, with at least one record', () => {
  expect(texts(threeAppends().read(1, 100, 4))).toEqual(['bb', 'ccc'])
  expect(texts(threeAppends().read(2, 100, 1))).toEqual(['ccc'])
})

test('keeps each record’s own timestamp, batch start and key', () => {
  const [d, e, f, g] = threeAppends().read(3, 100, 1e9)
  expect(d).toMatchObject({ offset: 3, batchStart: true, timestamp: 9, key: 'k' })
  expect(e).toMatchObject({ offset: 4, batchStart: false, timestamp: 10, key: null })
  expect(f).toMatchObject({ batchStart: true, timestamp: 7 })
  expect(g).toMatchObject({ offset: 6, batchStart: true })
})

test('truncate drops the appends after a mark; filter keeps offsets', () => {
  const log = threeAppends()
  const mark = log.mark
  log.append([record(7, 'h', { batchStart: true })])
  log.truncate(mark)
  expect(texts(log.read(0, 100, 1e9))).toEqual(['a', 'bb', 'ccc', 'd', 'ee', 'f', 'g'])
  const kept = log.filter((offset) => offset % 2 === 0)
  expect(kept.read(0, 100, 1e9).map((r) => r.offset)).toEqual([0, 2, 4, 6])
  expect(texts(kept.read(3, 100, 1e9))).toEqual(['ee', 'g'])
})
