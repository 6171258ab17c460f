/**
 * duality/server: the server log as a web-standard app. A Durable Streams HTTP server (any
 * Durable Streams client can read and append) with topics on top, over an engine: the embedded
 * one on a ServerStorage (memory here; SQLite in duality/server/sqlite) or JetStream
 * (duality/server/jetstream). No Node or native module: run it with duality/server/node's
 * `serve`, or hand `app.fetch` to any runtime that speaks fetch. JWT bearer auth (jose) is
 * duality/server/jwt's `jwtAuthenticator`.
 */
export { createApp, type AppOptions } from './http/createApp.ts'
export type { ServerErrorCode } from './http/errorResponse.ts'
export type { Awaitable, Engine } from './engine/Engine.ts'
export type * from './engine/outcomes.ts'
export type {
  ClosedBy,
  NewStreamRow,
  ProducerState,
  StoredRecord,
  StreamRow,
} from './engine/streamRows.ts'
export { EmbeddedEngine, type EmbeddedEngineOptions } from './engines/embedded/EmbeddedEngine.ts'
export { TransactionAborted, type ServerStorage } from './engines/embedded/ServerStorage.ts'
export { memoryServerStorage } from './engines/memory/memoryServerStorage.ts'
export {
  actionOf,
  resourceOf,
  type Action,
  type Authenticate,
  type Authorize,
  type Principal,
  type SecurityOptions,
} from './auth/security.ts'
export { TopicAdmin, type TopicDescription } from './topics/TopicAdmin.ts'
