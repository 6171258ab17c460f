export { StreamsBuilder } from './StreamsBuilder.ts'
export { KStream, BranchedKStream } from './KStream.ts'
export { KTable, Suppressed, Materialized } from './KTable.ts'
export { KGroupedStream } from './KGroupedStream.ts'
export { KGroupedTable } from './KGroupedTable.ts'
export { Topology, type Sink, type StateStore, type StreamPartitioner } from './Topology.ts'
export { KeyValueStore, type ValueAndTimestamp, type KeyValuePair } from './KeyValueStore.ts'
export {
  VersionedKeyValueStore,
  PUT_RETURN_CODE_NOT_PUT,
  PUT_RETURN_CODE_VALID_TO_UNDEFINED,
  type VersionedRecord,
} from './VersionedKeyValueStore.ts'
export { Stores, type VersionedStoreSupplier } from './Stores.ts'
export { Joined } from './Joined.ts'
export { KeyValue, type StreamRecord, type Change, type ProcessorNode } from './processor.ts'
export { TimeWindowedKStream } from './TimeWindowedKStream.ts'
export { SessionWindowedKStream } from './SessionWindowedKStream.ts'
export { SlidingWindowedKStream } from './SlidingWindowedKStream.ts'
export { WindowedKStream, type WindowedOptions } from './WindowedKStream.ts'
export {
  TimeWindows,
  SessionWindows,
  SlidingWindows,
  EmitStrategy,
  type Window,
  type Windowed,
} from './windows.ts'
export { GlobalKTable } from './GlobalKTable.ts'
export { JoinWindows } from './JoinWindows.ts'
export {
  KafkaStreams,
  DEFAULT_MAX_RECORDS_PER_BATCH,
  type KafkaStreamsConfig,
  type KafkaStreamsState,
} from './KafkaStreams.ts'
export type { ChangelogAppend, ChangelogPreview, ChangelogValue } from './ChangelogPreview.ts'
export { storeSnapshotLabel, type SnapshotConfig } from './StoreSnapshots.ts'
export type {
  ReadOnlyKeyValueStore,
  ReadOnlyVersionedKeyValueStore,
  ReadOnlyWindowStore,
  StoreChange,
} from './queryableStore.ts'
export { storesAsOf, type AsOf, type AsOfEntry, type StoresAsOf } from './asOf.ts'
