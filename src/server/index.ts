/**
 * duality/server: the server log. A Durable Streams HTTP server (any Durable Streams client can
 * read and append), with topics on top, over an embedded SQLite file or memory.
 */
export { createApp, type AppOptions } from './createApp.ts'
export { serve, type RunningServer, type ServeOptions } from './serve.ts'
export { StreamEngine, type StreamEngineOptions } from './StreamEngine.ts'
export type { Awaitable, StreamBackend } from './StreamBackend.ts'
export type {
  ClosedBy,
  NewStreamRow,
  ProducerState,
  ServerStorage,
  StoredRecord,
  StreamRow,
} from './ServerStorage.ts'
export { TransactionAborted } from './ServerStorage.ts'
export { memoryServerStorage } from './memoryServerStorage.ts'
export { sqliteServerStorage, type SqliteServerStorageOptions } from './sqliteServerStorage.ts'
export { formatOffset, parseOffset } from './offsets.ts'
export type { ErrorBody, ServerErrorCode } from './httpError.ts'
export type * from './outcomes.ts'
export {
  actionOf,
  resourceOf,
  type Action,
  type Authenticate,
  type Authorize,
  type Principal,
  type SecurityOptions,
} from './security.ts'
export { jwtAuthenticator, type JwtAuthenticatorOptions } from './jwtAuthenticator.ts'
export {
  TopicAdmin,
  partitionPath,
  type CreateTopicRequest,
  type TopicDescription,
} from './TopicAdmin.ts'
export { JetStreamEngine, type JetStreamEngineOptions } from './JetStreamEngine.ts'
