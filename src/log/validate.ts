import { InvalidArgumentError, InvalidOffsetError, InvalidPartitionsError } from './errors.ts'

export function checkOffset(offset: unknown, what = 'offset'): number {
  if (typeof offset === 'string' && /^\d+$/.test(offset)) offset = Number(offset)
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidOffsetError(
      `${what} must be a non-negative integer, got ${JSON.stringify(offset) ?? String(offset)}`,
    )
  }
  return offset
}

export function checkPartition(partition: unknown, numPartitions: number, topic: string): number {
  if (
    typeof partition !== 'number' ||
    !Number.isInteger(partition) ||
    partition < 0 ||
    partition >= numPartitions
  ) {
    throw new InvalidPartitionsError(
      `Topic "${topic}" has partitions 0..${numPartitions - 1}; partition ${String(partition)} does not exist`,
    )
  }
  return partition
}

export function checkTopicName(topic: unknown): string {
  if (
    typeof topic !== 'string' ||
    !/^[a-zA-Z0-9._-]{1,249}$/.test(topic) ||
    topic === '.' ||
    topic === '..'
  ) {
    throw new InvalidArgumentError(
      `Invalid topic name ${JSON.stringify(topic)}: use 1-249 characters from a-z, A-Z, 0-9, '.', '_' and '-'`,
    )
  }
  return topic
}

export function checkPositive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new InvalidArgumentError(`${what} must be a positive number, got ${String(value)}`)
  }
  return value
}
