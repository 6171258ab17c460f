import { DualityError, InvalidConfigError, type DualityErrorJSON } from '../../log/errors.ts'
import {
  SCHEMA_VERSION_HEADER,
  upcastRecord,
  validateMessages,
  type AnyTopicDefinition,
  type TopicDefinition,
} from '../../log/TopicDefinition.ts'
import type { RecordHeaders } from '../../log/record.ts'
import { isJsonType, topicsPrefix } from '../../protocol/index.ts'
import type { Engine } from '../engine/Engine.ts'
import type { AppendOutcome, AppendRequest } from '../engine/outcomes.ts'

const decoder = new TextDecoder()

/**
 * The engine the app runs on, with every append to a typed topic's partition checked against its
 * schema first. Without schemas it is the engine itself, so untyped servers pay nothing; with
 * them, an append to any other path costs one prefix test and one map lookup.
 *
 * The check runs in the engine rather than in an HTTP handler so that every way into `append`
 * (hono's route, a direct node:http path) is covered by one call site. A refusal is thrown as the
 * typed error (SchemaValidationError, SchemaVersionError, InvalidRecordError from an upcast
 * step) before the engine sees the body, so nothing of the batch is written; the HTTP layer
 * answers it with a 400 (failureResponse.ts).
 *
 * What is stored is what the client sent: the schema's output (coercions, stripped fields) is
 * not written back, and a record of an older version keeps its version header (readers upcast
 * it). An older record is upcast before it is validated: the server checks the value every
 * reader will see, which is the current shape.
 */
export function withTopicSchemas(
  engine: Engine,
  schemas: readonly AnyTopicDefinition[] | undefined,
): Engine {
  if (schemas === undefined || schemas.length === 0) return engine
  const byTopic = new Map<string, TopicDefinition>()
  for (const def of schemas) {
    if (byTopic.has(def.name)) {
      throw new InvalidConfigError(`schemas: topic "${def.name}" is defined twice`)
    }
    byTopic.set(def.name, def)
  }
  return new SchemaCheckedEngine(engine, byTopic)
}

class SchemaCheckedEngine implements Engine {
  readonly now: Engine['now']
  readonly topics: Engine['topics']

  constructor(
    private readonly inner: Engine,
    private readonly schemas: ReadonlyMap<string, TopicDefinition>,
  ) {
    this.now = inner.now
    this.topics = inner.topics
  }

  append(req: AppendRequest): Promise<AppendOutcome> {
    const def = this.definitionOf(req.path)
    // A body that is not JSON is the engine's to refuse (a content-type mismatch on a topic).
    if (def === undefined || req.body.length === 0 || !isJsonType(req.contentType ?? '')) {
      return this.inner.append(req)
    }
    return checkBody(def, req.body).then(
      () => this.inner.append(req),
      (error: unknown) => {
        if (error instanceof DualityError) refusals.add(error)
        throw error
      },
    )
  }

  /** The typed topic a partition path (`/topics/<name>/<p>`) belongs to, if any. */
  private definitionOf(path: string): TopicDefinition | undefined {
    if (!path.startsWith(topicsPrefix)) return undefined
    const slash = path.indexOf('/', topicsPrefix.length)
    if (slash < 0) return undefined
    return this.schemas.get(path.slice(topicsPrefix.length, slash))
  }

  createStream: Engine['createStream'] = (req) => this.inner.createStream(req)
  head: Engine['head'] = (path) => this.inner.head(path)
  read: Engine['read'] = (path, from, maxBytes) => this.inner.read(path, from, maxBytes)
  delete: Engine['delete'] = (path) => this.inner.delete(path)
  waitForChange: Engine['waitForChange'] = (streamId, timeoutMs, signal) =>
    this.inner.waitForChange(streamId, timeoutMs, signal)
  get parkedReads(): number {
    return this.inner.parkedReads
  }
  closeLiveReads(): void {
    this.inner.closeLiveReads()
  }
  close(): ReturnType<Engine['close']> {
    return this.inner.close()
  }
}

interface WireRecord {
  key?: unknown
  value: unknown
  headers?: RecordHeaders
}

/**
 * Validates a topic append's records (a JSON array of `{ key, value, headers }`, or one such
 * object) against the topic's schema, each upcast from its version first. A body that is not
 * JSON, or records that are not objects, are left to the engine, which refuses them with its own
 * messages (nothing this check could add).
 */
async function checkBody(def: TopicDefinition, body: Uint8Array): Promise<void> {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(body))
  } catch {
    return
  }
  const records = Array.isArray(parsed) ? parsed : [parsed]
  const current = records.map((r: unknown, index): unknown => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return r
    const record = r as WireRecord
    const headers = isHeaders(record.headers) ? record.headers : null
    // Headers that are not all text are the engine's to refuse (skipped here: null is).
    if (typeof (headers?.[SCHEMA_VERSION_HEADER] ?? '') !== 'string') return null
    const { value } = upcastRecord(
      def,
      record.value ?? null,
      headers,
      `Message ${index} to "${def.name}"`,
    )
    return { key: record.key, value }
  })
  await validateMessages(def, current as WireRecord[])
}

const isHeaders = (h: unknown): h is RecordHeaders =>
  h !== null && typeof h === 'object' && !Array.isArray(h)

/**
 * The error body of a refusal thrown by the check above (`{ code, message, details }`, details
 * being the failing record's index, field and issues), or undefined for any other error.
 */
export function schemaRefusal(error: unknown): DualityErrorJSON | undefined {
  return error instanceof DualityError && refusals.has(error) ? error.toJSON() : undefined
}

/**
 * The errors the check threw: a SchemaValidationError, a SchemaVersionError (a version newer
 * than this server knows, or no version at all), an InvalidRecordError (an upcast step threw on
 * the record). Marked rather than matched by class, so that the same classes thrown elsewhere
 * (a server bug) still answer 500.
 */
const refusals = new WeakSet<DualityError>()
