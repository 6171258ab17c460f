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

export function keyPartition(key: string | Uint8Array, numPartitions: number): number {
  const bytes = typeof key === 'string' ? utf8Encode(key) : key
  return toPositive(murmur2(bytes)) % numPartitions
}

export const defaultPartitioner: Partitioner = ({ numPartitions, key, sendIndex }) =>
  key === null ? sendIndex % numPartitions : keyPartition(key, numPartitions)
