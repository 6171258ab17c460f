import { RecordTooLargeError } from '../../log/errors.ts'
import { isJsonType } from '../../protocol/index.ts'
import { parseJsonMessages } from '../http/jsonMessages.ts'
import type { StoredRecord, StreamRow } from './streamRows.ts'
import { topicConfigOf, topicRecordOf } from '../topics/topicRecords.ts'

/**
 * The records of an append body, for every backend: one per JSON message in JSON mode, else the
 * body as one record; on a topic partition each message is checked and stored as a topic record
 * (key kept for compaction, its own creation time). A refusal is a message for a 400 (413 for a
 * record over its topic's max.message.bytes): nothing of the body is written.
 */
export function toRecords(
  row: StreamRow,
  body: Uint8Array,
  initial: boolean,
  timestamp: number,
): { ok: true; records: StoredRecord[] } | { ok: false; message: string; tooLarge?: boolean } {
  const messages = isJsonType(row.contentType)
    ? parseJsonMessages(body, initial)
    : { ok: true as const, messages: [body] }
  if (!messages.ok) return messages
  const records: StoredRecord[] = new Array<StoredRecord>(messages.messages.length)
  const config = topicConfigOf(row)
  for (let i = 0; i < records.length; i++) {
    const message = messages.messages[i]!
    const topicRecord =
      row.topic === null ? undefined : topicRecordOf(row, config, message, timestamp)
    if (topicRecord instanceof RecordTooLargeError) {
      return { ok: false, message: topicRecord.message, tooLarge: true }
    }
    if (topicRecord instanceof Error) return { ok: false, message: topicRecord.message }
    records[i] = {
      offset: row.nextOffset + i,
      data: topicRecord?.data ?? message,
      batchStart: i === 0,
      timestamp: topicRecord?.timestamp ?? timestamp,
      key: topicRecord?.key ?? null,
    }
  }
  return { ok: true, records }
}
