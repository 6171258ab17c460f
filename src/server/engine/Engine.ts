import type { ReadFrom } from '../../protocol/index.ts'
import type {
  AppendOutcome,
  AppendRequest,
  CreateOutcome,
  CreateRequest,
  DeleteOutcome,
  ReadOutcome,
  StreamLookup,
} from './outcomes.ts'
import type { TopicStore } from '../topics/TopicStore.ts'
import type { WaitResult } from './Waiters.ts'

/** A value now (the embedded engine, which never waits on I/O) or later (a networked backend). */
export type Awaitable<T> = T | Promise<T>

/**
 * What the HTTP handlers ask of a backend: the Durable Streams operations as outcomes. The
 * embedded EmbeddedEngine (SQLite, memory) answers synchronously and keeps its per-turn group
 * commit; JetStreamEngine answers asynchronously over NATS. Handlers `await` every call, which
 * costs the synchronous engine nothing but a microtask.
 */
export interface Engine {
  readonly now: () => number
  /** The backend's side of topics (partition sets), which TopicAdmin drives. */
  readonly topics: TopicStore
  createStream(req: CreateRequest): Awaitable<CreateOutcome>
  head(path: string): Awaitable<StreamLookup>
  append(req: AppendRequest): Promise<AppendOutcome>
  read(path: string, from: ReadFrom, maxBytes?: number): Awaitable<ReadOutcome>
  delete(path: string): Awaitable<DeleteOutcome>
  /** Resolves when the stream changes (append, close, delete), on timeout, or when aborted. */
  waitForChange(streamId: number, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult>
  /** Live reads (long-polls, SSE connections) waiting for data right now. */
  readonly parkedReads: number
  /** Ends every live read: the server is shutting down. */
  closeLiveReads(): void
  /** Releases the backend's storage or connection, after the last request. */
  close(): Awaitable<void>
}
