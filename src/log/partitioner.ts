import { murmur2, toPositive } from './murmur2.ts'
import { utf8Encode } from './utf8.ts'
import type { RecordKey } from './record.ts'

/**
 * Chooses a partition for each message of one send. Keyed messages go where Kafka's default
 * partitioner puts them; keyless messages of one send stay together in one partition (Kafka's
 * sticky partitioner: one batch per send) and the next send moves on.
 */
export type Partitioner = (args: {
  topic: string
  numPartitions: number
  key: RecordKey
  /** Index of the send this message belongs to, counted per producer and topic. */
  sendIndex: number
}) => number

// Keys repeat (users, entities): remembering recent string keys' hashes skips encode + murmur2.
const hashes = new Map<string, number>()
const MAX_CACHED = 10_000

function keyHash(key: string | Uint8Array): number {
  if (typeof key !== 'string') return toPositive(murmur2(key))
  let hash = hashes.get(key)
  if (hash === undefined) {
    hash = toPositive(murmur2(utf8Encode(key)))
    if (hashes.size >= MAX_CACHED) hashes.clear()
    hashes.set(key, hash)
  }
  return hash
}

export function keyPartition(key: string | Uint8Array, numPartitions: number): number {
  return numPartitions === 1 ? 0 : keyHash(key) % numPartitions
}

export const defaultPartitioner: Partitioner = ({ numPartitions, key, sendIndex }) =>
  key === null ? sendIndex % numPartitions : keyPartition(key, numPartitions)
