export {
  Sync,
  type SyncOptions,
  type SyncStatus,
  type SyncEvent,
  type TopicStatus,
  type Connection,
} from './Sync.ts'
export type {
  SyncTransport,
  RemoteTopic,
  RemoteChunk,
  OutboundRecord,
  ProducerCoordinates,
} from './SyncTransport.ts'
export { memoryTransport, type MemoryTransportOptions } from './memoryTransport.ts'
export { outboxTopic } from './syncState.ts'
export { backoffDelay } from './backoff.ts'
export { httpTransport, type HttpTransportOptions } from './httpTransport.ts'
export { rejectionsTopic, type Rejection } from './rejections.ts'
