import type { PartitionRow, ReadTx } from './LogStorage.ts'
import { recordOffset, rowKeys } from './RecordBatch.ts'
import { keyIdentity } from './record.ts'

/**
 * How far back from a partition's end a key's last record is looked for (`expectedKeyOffset`).
 * The log keeps no key index (one would cost a request per record on every append, expectation
 * or not), so the lookup reads the rows of this many offsets, values included, in the append's own
 * transaction: up to three requests of growing windows, the whole one costing about what a fetch
 * of that many records costs. Found within it, or with the whole partition within it, the answer
 * is exact; otherwise the send is refused as not checkable rather than guessed.
 */
export const KEY_LOOKUP_OFFSETS = 100_000

/**
 * The offset of each wanted key's last record in a partition (by keyIdentity), -1 for a key with
 * no record, `undefined` for one with no record in the last KEY_LOOKUP_OFFSETS offsets while
 * older records remain. A tombstone is a record: it is the key's last one until the cleaner
 * removes it.
 */
export async function lastKeyOffsets(
  tx: ReadTx,
  head: PartitionRow,
  wanted: ReadonlySet<string>,
): Promise<Map<string, number | undefined>> {
  const { topic, partition, logStartOffset, nextOffset } = head
  const floor = Math.max(logStartOffset, nextOffset - KEY_LOOKUP_OFFSETS)
  const found = new Map<string, number | undefined>()
  // Windows growing tenfold back from the end, each one request: a key written lately (the usual
  // case for an expected revision) costs a row or two, not the whole window (~75 ms for 100,000
  // small records in Chromium). Batches are keyed by their last offset; a window takes the rows
  // whose last offset is in it, so each row is read once.
  let above = Infinity
  for (let span = FIRST_WINDOW; above > floor && found.size < wanted.size; span *= 10) {
    const from = Math.max(floor, nextOffset - span)
    const rows = await tx.getAll('batches', {
      lower: [topic, partition, from],
      upper: above === Infinity ? [topic, partition, []] : [topic, partition, above],
      upperOpen: true,
    })
    above = from
    for (let r = rows.length - 1; r >= 0 && found.size < wanted.size; r--) {
      const row = rows[r]!
      const keys = rowKeys(row)
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]
        if (key === null || key === undefined) continue
        const offset = recordOffset(row, i)
        // Below the log start a record is deleted (retention), even if its row is still stored.
        if (offset < logStartOffset) break
        const id = keyIdentity(key)
        if (wanted.has(id) && !found.has(id)) found.set(id, offset)
      }
    }
  }
  const whole = floor === logStartOffset
  for (const id of wanted) if (!found.has(id)) found.set(id, whole ? -1 : undefined)
  return found
}

/** The first window's span in offsets: a row or two of small records. */
const FIRST_WINDOW = 1_000
