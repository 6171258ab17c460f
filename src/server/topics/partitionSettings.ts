import type { StreamRow } from '../engine/streamRows.ts'

/** What a partition stream's row says of its topic (the JSON TopicAdmin writes at creation). */
export interface PartitionSettings {
  topic: string
  /** Topics made before ids existed have none. */
  id?: string
  partition: number
  numPartitions: number
}

const settingsOf = (row: StreamRow): PartitionSettings =>
  JSON.parse(row.topic!) as PartitionSettings

export const partitionOf = (row: StreamRow): number => settingsOf(row).partition
export const topicNameOf = (row: StreamRow): string => settingsOf(row).topic
export const topicIdOf = (row: StreamRow): string | undefined => settingsOf(row).id
