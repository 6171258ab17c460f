/**
 * duality/server: the server log. A Durable Streams HTTP server (any Durable Streams client can
 * read and append), with topics on top, over an embedded SQLite file or memory.
 */
export { createApp, type AppOptions } from './http/createApp.ts'
export { serve, type RunningServer, type ServeOptions } from './node/serve.ts'
export { EmbeddedEngine, type EmbeddedEngineOptions } from './engines/embedded/EmbeddedEngine.ts'
export type { Awaitable, Engine } from './engine/Engine.ts'
export type {
  ClosedBy,
  NewStreamRow,
  ProducerState,
  ServerStorage,
  StoredRecord,
  StreamRow,
} from './engines/embedded/ServerStorage.ts'
export { TransactionAborted } from './engines/embedded/ServerStorage.ts'
export { memoryServerStorage } from './engines/memory/memoryServerStorage.ts'
export {
  sqliteServerStorage,
  type SqliteServerStorageOptions,
} from './engines/sqlite/sqliteServerStorage.ts'
export { formatOffset, parseOffset } from '../protocol/index.ts'
export type { ErrorBody, ServerErrorCode } from './http/errorResponse.ts'
export type * from './engine/outcomes.ts'
export {
  actionOf,
  resourceOf,
  type Action,
  type Authenticate,
  type Authorize,
  type Principal,
  type SecurityOptions,
} from './auth/security.ts'
export { jwtAuthenticator, type JwtAuthenticatorOptions } from './auth/jwtAuthenticator.ts'
export {
  TopicAdmin,
  partitionPath,
  type CreateTopicRequest,
  type TopicDescription,
} from './topics/TopicAdmin.ts'
export {
  JetStreamEngine,
  type JetStreamEngineOptions,
} from './engines/jetstream/JetStreamEngine.ts'
