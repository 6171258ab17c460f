/**
 * The typed errors a user can cause. Each has a stable `code` (Kafka's error names where Kafka has
 * one) so that an error can cross a worker or network boundary as `{ code, message }` and be rebuilt
 * as the same class on the other side (see `errorFromJSON`).
 */
export type DualityErrorCode =
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'TOPIC_ALREADY_EXISTS'
  | 'INVALID_PARTITIONS'
  | 'INVALID_CONFIG'
  | 'INVALID_RECORD'
  | 'MESSAGE_TOO_LARGE'
  | 'OFFSET_OUT_OF_RANGE'
  | 'INVALID_OFFSET'
  | 'INVALID_ARGUMENT'
  | 'QUOTA_EXCEEDED'
  | 'STORAGE_ERROR'
  | 'ILLEGAL_GENERATION'
  | 'UNKNOWN_SERVER_ERROR'
  | 'CLOSED'
  | 'INVALID_TOPOLOGY'
  | 'PROCESSING_ERROR'
  | 'UNAUTHORIZED'
  | 'TOPIC_AUTHORIZATION_FAILED'
  | 'RATE_LIMITED'
  | 'PRODUCER_FENCED'
  | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
  | 'NETWORK_EXCEPTION'
  | 'WRONG_EXPECTED_OFFSET'
  | 'SCHEMA_VALIDATION_FAILED'
  | 'UNSUPPORTED_SCHEMA_VERSION'

export class DualityError extends Error {
  // Spelled out: a minifier renames classes, and `name` is what logs and catch blocks read.
  override name = 'DualityError'
  readonly code: DualityErrorCode
  /** True when retrying the same call may succeed (Kafka's "retriable"). */
  readonly retriable: boolean

  constructor(
    code: DualityErrorCode,
    message: string,
    options?: { cause?: unknown; retriable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retriable = options?.retriable ?? false
  }

  toJSON(): DualityErrorJSON {
    return { code: this.code, name: this.name, message: this.message }
  }
}

/**
 * An error as it crosses a worker or network boundary. `details` holds the fields of the classes
 * that carry more than a message (ConcurrencyError), for `errorFromJSON` to put back.
 */
export interface DualityErrorJSON {
  code: DualityErrorCode
  name: string
  message: string
  details?: ErrorDetails
}

/** The extra fields an error may carry across a boundary, by the class that carries them. */
export type ErrorDetails = ConcurrencyDetails | SchemaValidationDetails

export class UnknownTopicError extends DualityError {
  override name = 'UnknownTopicError'
  constructor(message: string) {
    super('UNKNOWN_TOPIC_OR_PARTITION', message)
  }
}

export class TopicExistsError extends DualityError {
  override name = 'TopicExistsError'
  constructor(message: string) {
    super('TOPIC_ALREADY_EXISTS', message)
  }
}

export class InvalidPartitionsError extends DualityError {
  override name = 'InvalidPartitionsError'
  constructor(message: string) {
    super('INVALID_PARTITIONS', message)
  }
}

export class InvalidConfigError extends DualityError {
  override name = 'InvalidConfigError'
  constructor(message: string) {
    super('INVALID_CONFIG', message)
  }
}

/** A record the topic cannot take: keyless on a compacted topic, a value the serde refuses. */
export class InvalidRecordError extends DualityError {
  override name = 'InvalidRecordError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_RECORD', message, options)
  }
}

export class RecordTooLargeError extends DualityError {
  override name = 'RecordTooLargeError'
  constructor(message: string) {
    super('MESSAGE_TOO_LARGE', message)
  }
}

/** A read below the log start offset (removed by retention) or past the end of the log. */
export class OffsetOutOfRangeError extends DualityError {
  override name = 'OffsetOutOfRangeError'
  constructor(message: string) {
    super('OFFSET_OUT_OF_RANGE', message)
  }
}

/** An offset that is not a non-negative safe integer. */
export class InvalidOffsetError extends DualityError {
  override name = 'InvalidOffsetError'
  constructor(message: string) {
    super('INVALID_OFFSET', message)
  }
}

export class InvalidArgumentError extends DualityError {
  override name = 'InvalidArgumentError'
  constructor(message: string) {
    super('INVALID_ARGUMENT', message)
  }
}

/** The browser refused to store more (IndexedDB `QuotaExceededError`). Nothing was written. */
export class QuotaExceededError extends DualityError {
  override name = 'QuotaExceededError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUOTA_EXCEEDED', message, options)
  }
}

/** Any other storage failure. Nothing was written; the operation may be retried. */
export class StorageError extends DualityError {
  override name = 'StorageError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_ERROR', message, { ...options, retriable: true })
  }
}

/** A commit for a partition this consumer no longer owns (its group moved it to another member). */
export class NotAssignedError extends DualityError {
  override name = 'NotAssignedError'
  constructor(message: string) {
    super('ILLEGAL_GENERATION', message)
  }
}

/** An unexpected failure (a bug, in duality or in user code it called), not retriable. */
export class UnknownError extends DualityError {
  override name = 'UnknownError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNKNOWN_SERVER_ERROR', message, options)
  }
}

export class ClosedError extends DualityError {
  override name = 'ClosedError'
  constructor(message: string) {
    super('CLOSED', message)
  }
}

/** A topology Kafka Streams would refuse to start (Kafka's TopologyException). */
export class TopologyError extends DualityError {
  override name = 'TopologyError'
  constructor(message: string) {
    super('INVALID_TOPOLOGY', message)
  }
}

/**
 * A user function (mapper, predicate, aggregator, joiner...) threw while processing a record. It
 * names the processor and, once the runtime knows it, the record's topic, partition and offset.
 */
export class ProcessingError extends DualityError {
  override name = 'ProcessingError'
  /** Where the record came from (set by the runtime; absent in a test driver's direct pipe). */
  source: { topic: string; partition: number; offset: number } | undefined

  constructor(
    message: string,
    readonly processor = '',
    options?: { cause?: unknown },
  ) {
    super('PROCESSING_ERROR', message, options)
  }

  static of(processor: string, cause: unknown): ProcessingError {
    const reason = cause instanceof Error ? cause.message : String(cause)
    return new ProcessingError(`Processor ${processor} failed: ${reason}`, processor, { cause })
  }

  /** Adds the failing record's position to the error and its message. */
  at(source: { topic: string; partition: number; offset: number }): this {
    if (this.source) return this
    this.source = source
    this.message += ` (record ${source.topic}-${source.partition}@${source.offset})`
    return this
  }
}

/** The server refused the credentials (or there were none). */
export class UnauthorizedError extends DualityError {
  override name = 'UnauthorizedError'
  constructor(message: string) {
    super('UNAUTHORIZED', message)
  }
}

/**
 * The server knows who is asking and refuses the request (HTTP 403: its `authorize` said no, the
 * origin is not allowed, or the producer id is not the caller's); Kafka's TOPIC_AUTHORIZATION_FAILED.
 * Asking again with the same credentials gets the same answer: a synced send refused so leaves
 * the outbox as a rejection.
 */
export class ForbiddenError extends DualityError {
  override name = 'ForbiddenError'
  constructor(message: string) {
    super('TOPIC_AUTHORIZATION_FAILED', message)
  }
}

/** The server asks to slow down (HTTP 429); retry later. */
export class RateLimitedError extends DualityError {
  override name = 'RateLimitedError'
  constructor(message: string) {
    super('RATE_LIMITED', message, { retriable: true })
  }
}

/** A newer epoch of this producer id took over (Kafka's PRODUCER_FENCED). */
export class ProducerFencedError extends DualityError {
  override name = 'ProducerFencedError'
  constructor(message: string) {
    super('PRODUCER_FENCED', message)
  }
}

/** The server expected another sequence number: a batch went missing in between. */
export class OutOfOrderSequenceError extends DualityError {
  override name = 'OutOfOrderSequenceError'
  constructor(message: string) {
    super('OUT_OF_ORDER_SEQUENCE_NUMBER', message)
  }
}

/** The server could not be reached, or the connection broke; retrying may succeed. */
export class NetworkError extends DualityError {
  override name = 'NetworkError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK_EXCEPTION', message, { ...options, retriable: true })
  }
}

/** What a ConcurrencyError says: which expectation of which message failed, and what was found. */
export interface ConcurrencyDetails {
  topic: string
  partition: number
  /** The message's key as stored (its serde's output); null for a keyless message. */
  key: string | Uint8Array | null
  /** `offset`: the partition's end offset; `keyOffset`: the offset of the key's last record. */
  expectation: 'offset' | 'keyOffset'
  expected: number
  /** What the log holds: the end offset, or the key's last record's offset (-1: it has none). */
  actual: number
}

/**
 * A send stated what it expected (`expectedOffset` or `expectedKeyOffset`, EventStoreDB's expected
 * revision) and the log had moved on. Nothing of the send was written; read again and decide.
 */
export class ConcurrencyError extends DualityError {
  override name = 'ConcurrencyError'
  readonly topic: string
  readonly partition: number
  readonly key: string | Uint8Array | null
  readonly expectation: 'offset' | 'keyOffset'
  readonly expected: number
  readonly actual: number

  constructor(message: string, details?: ConcurrencyDetails) {
    super('WRONG_EXPECTED_OFFSET', message)
    // Rebuilt from a bare message (an old peer), the fields say "unknown" rather than lie.
    this.topic = details?.topic ?? ''
    this.partition = details?.partition ?? -1
    this.key = details?.key ?? null
    this.expectation = details?.expectation ?? 'offset'
    this.expected = details?.expected ?? -1
    this.actual = details?.actual ?? -1
  }

  static of(details: ConcurrencyDetails): ConcurrencyError {
    const { topic, partition, key, expectation, expected, actual } = details
    const where = `Send to ${topic}-${partition}`
    const named =
      key === null
        ? 'no key'
        : typeof key === 'string'
          ? JSON.stringify(key)
          : `bytes(${key.length})`
    const found = actual === -1 ? 'the key has no record' : `its last record is at offset ${actual}`
    const message =
      expectation === 'offset'
        ? `${where} expected the partition's end offset ${expected}, but it is ${actual}`
        : expected === -1
          ? `${where} expected key ${named} to have no record yet, but ${found}`
          : `${where} expected key ${named}'s last record at offset ${expected}, but ${found}`
    return new ConcurrencyError(`${message}; nothing was written`, details)
  }

  override toJSON(): DualityErrorJSON {
    const { topic, partition, key, expectation, expected, actual } = this
    return { ...super.toJSON(), details: { topic, partition, key, expectation, expected, actual } }
  }
}

/** One problem a topic's schema found in a message (Standard Schema's issue, path flattened). */
export interface SchemaIssue {
  message: string
  /** The field's path from the value (or key), e.g. `['items', 0, 'price']`; empty for the whole. */
  path: (string | number)[]
}

/** What a SchemaValidationError says: which message of which send, and where it is wrong. */
export interface SchemaValidationDetails {
  topic: string
  /** The message's index in the send's `messages`. */
  index: number
  /** Whether the value or the key failed its schema. */
  field: 'value' | 'key'
  issues: SchemaIssue[]
}

/**
 * A message did not match its topic's schema. The whole send was refused: nothing of it was
 * written. `index` is the first failing message, `path` the field of its first issue.
 */
export class SchemaValidationError extends DualityError {
  override name = 'SchemaValidationError'
  readonly topic: string
  readonly index: number
  readonly field: 'value' | 'key'
  readonly issues: SchemaIssue[]

  constructor(message: string, details?: SchemaValidationDetails) {
    super('SCHEMA_VALIDATION_FAILED', message)
    // Rebuilt from a bare message (an old peer), the fields say "unknown" rather than lie.
    this.topic = details?.topic ?? ''
    this.index = details?.index ?? -1
    this.field = details?.field ?? 'value'
    this.issues = details?.issues ?? []
  }

  /** The first issue's path, e.g. `['amount']`. */
  get path(): (string | number)[] {
    return this.issues[0]?.path ?? []
  }

  static of(details: SchemaValidationDetails): SchemaValidationError {
    const { topic, index, field, issues } = details
    const listed = issues.map((i) => `${[field, ...i.path].join('.')}: ${i.message}`).join('; ')
    return new SchemaValidationError(
      `Message ${index} to "${topic}" does not match the topic's schema (${listed}); nothing of the send was written`,
      details,
    )
  }

  override toJSON(): DualityErrorJSON {
    const { topic, index, field, issues } = this
    return { ...super.toJSON(), details: { topic, index, field, issues } }
  }
}

/**
 * A record was written with a schema version newer than this code knows (an old tab after a
 * deploy): it cannot be turned into a shape this code understands. Reload to get newer code.
 */
export class SchemaVersionError extends DualityError {
  override name = 'SchemaVersionError'
  constructor(message: string) {
    super('UNSUPPORTED_SCHEMA_VERSION', message)
  }
}

const classes: Record<DualityErrorCode, new (message: string) => DualityError> = {
  UNKNOWN_TOPIC_OR_PARTITION: UnknownTopicError,
  TOPIC_ALREADY_EXISTS: TopicExistsError,
  INVALID_PARTITIONS: InvalidPartitionsError,
  INVALID_CONFIG: InvalidConfigError,
  INVALID_RECORD: InvalidRecordError,
  MESSAGE_TOO_LARGE: RecordTooLargeError,
  OFFSET_OUT_OF_RANGE: OffsetOutOfRangeError,
  INVALID_OFFSET: InvalidOffsetError,
  INVALID_ARGUMENT: InvalidArgumentError,
  QUOTA_EXCEEDED: QuotaExceededError,
  STORAGE_ERROR: StorageError,
  ILLEGAL_GENERATION: NotAssignedError,
  UNKNOWN_SERVER_ERROR: UnknownError,
  CLOSED: ClosedError,
  INVALID_TOPOLOGY: TopologyError,
  PROCESSING_ERROR: ProcessingError,
  UNAUTHORIZED: UnauthorizedError,
  TOPIC_AUTHORIZATION_FAILED: ForbiddenError,
  RATE_LIMITED: RateLimitedError,
  PRODUCER_FENCED: ProducerFencedError,
  OUT_OF_ORDER_SEQUENCE_NUMBER: OutOfOrderSequenceError,
  NETWORK_EXCEPTION: NetworkError,
  WRONG_EXPECTED_OFFSET: ConcurrencyError,
  SCHEMA_VALIDATION_FAILED: SchemaValidationError,
  UNSUPPORTED_SCHEMA_VERSION: SchemaVersionError,
}

/** Rebuilds a typed error from its JSON form (the worker and the server send errors this way). */
export function errorFromJSON(json: {
  code: string
  message: string
  details?: ErrorDetails | undefined
}): DualityError {
  if (json.code === 'WRONG_EXPECTED_OFFSET')
    return new ConcurrencyError(json.message, json.details as ConcurrencyDetails | undefined)
  if (json.code === 'SCHEMA_VALIDATION_FAILED')
    return new SchemaValidationError(
      json.message,
      json.details as SchemaValidationDetails | undefined,
    )
  const Class = (classes as Record<string, (new (message: string) => DualityError) | undefined>)[
    json.code
  ]
  return Class ? new Class(json.message) : new UnknownError(json.message)
}
