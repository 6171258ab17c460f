/** A key as the log stores it: what the key serde produced. Strings hash as their UTF-8 bytes. */
export type RecordKey = string | Uint8Array | null

/** A value as the log stores it: what the value serde produced. `null` is a tombstone. */
export type RecordValue = string | Uint8Array | null

export type RecordHeaders = Record<string, string | Uint8Array>

/** One record as stored, before the consumer's serde turns it back into a value. */
export interface LogRecord {
  offset: number
  timestamp: number
  key: RecordKey
  value: RecordValue
  headers: RecordHeaders | null
}

/** A record about to be appended; the log assigns its offset. */
export interface RecordInput {
  timestamp: number
  key: RecordKey
  value: RecordValue
  headers: RecordHeaders | null
  /**
   * Set only when a follower copies a leader's records (`Log.appendAsFollower`): the offset the
   * leader gave it. Offsets then stay the leader's, gaps (compaction) included.
   */
  offset?: number
}

const nonAscii = /[\u0080-\uffff]/
const encoder = new TextEncoder()

/**
 * The identity compaction uses for a key: its bytes, as Kafka compares keys, so the string 'a' and
 * the bytes [0x61] are one key, and no string can pass for different bytes. (Bytes become a latin1
 * string; ASCII strings already are one.)
 */
export function keyIdentity(key: string | Uint8Array): string {
  if (typeof key === 'string') {
    if (!nonAscii.test(key)) return key
    key = encoder.encode(key)
  }
  let s = ''
  for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!)
  return s
}
