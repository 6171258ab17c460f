// duality: the partitioned log and the streams DSL. Storage-agnostic and free of browser, Node and
// UI libraries; IndexedDB lives in 'duality/idb'.
export { openLog, Log } from './log/Log.ts'
export type {
  LogOptions,
  FetchOptions,
  FetchResult,
  Message,
  PartitionOffsets,
  AppendEvent,
  RollResult,
} from './log/Log.ts'
export { Producer } from './log/Producer.ts'
export { defineTopic, SCHEMA_VERSION_HEADER } from './log/TopicDefinition.ts'
export type {
  TopicDefinition,
  TopicDefinitionInput,
  AnyTopicDefinition,
  Upcasters,
} from './log/TopicDefinition.ts'
export type { StandardSchemaV1 } from './log/standardSchema.ts'
export type { FollowerRecord } from './log/followerRequest.ts'
export type {
  ProducerConfig,
  ProducerMessage,
  ProducerRecord,
  RecordMetadata,
} from './log/Producer.ts'
export { Consumer } from './log/Consumer.ts'
export type {
  ConsumerConfig,
  ConsumerRunConfig,
  EachMessagePayload,
  EachBatchPayload,
  Batch,
  TopicPartition,
} from './log/Consumer.ts'
export { soloMembership } from './log/GroupMembership.ts'
export type { GroupMembership, GroupMember, MembershipHandlers } from './log/GroupMembership.ts'
export { Admin, MAX_PARTITIONS } from './log/Admin.ts'
export type {
  TopicSpec,
  CreateTopicsOptions,
  TopicMetadata,
  GroupOffset,
  OffsetCommit,
} from './log/Admin.ts'
export { Cleaner } from './log/Cleaner.ts'
export type { CleanerOptions, CleanerRunOptions, CleanReport } from './log/Cleaner.ts'
export { Serdes } from './log/Serde.ts'
export type { Serde, TopicSerdes } from './log/Serde.ts'
export { defaultTopicConfig, parseTopicConfig } from './log/TopicConfig.ts'
export type { TopicConfig, TopicConfigName, ConfigEntry } from './log/TopicConfig.ts'
export { murmur2, toPositive } from './log/murmur2.ts'
export { defaultPartitioner, keyPartition } from './log/partitioner.ts'
export type { Partitioner } from './log/partitioner.ts'
export type { LogRecord, RecordKey, RecordValue, RecordHeaders } from './log/record.ts'
export * from './log/errors.ts'
export { KEY_LOOKUP_OFFSETS } from './log/lastKeyOffsets.ts'
export type {
  LogStorage,
  ReadTx,
  WriteTx,
  WriteOptions,
  Key,
  KeyRange,
  Rows,
  StoreName,
  TopicRow,
  PartitionRow,
  SegmentRow,
  BatchRow,
  GroupOffsetRow,
  SnapshotRow,
} from './log/LogStorage.ts'
export { keyPaths, storeNames } from './log/LogStorage.ts'
export { loadSnapshot, saveSnapshot } from './log/TopicSnapshot.ts'
export type {
  SnapshotEntry,
  SnapshotLoad,
  SnapshotRejection,
  TopicSnapshot,
} from './log/TopicSnapshot.ts'
export { memoryStorage, MemoryDatabase } from './storage/memory/memoryStorage.ts'
export type { MemoryStorage, MemoryStorageOptions } from './storage/memory/memoryStorage.ts'
export * from './streams/index.ts'
export * from './sync/index.ts'
