import {
  ConcurrencyError,
  DualityError,
  ForbiddenError,
  InvalidArgumentError,
  InvalidRecordError,
  NetworkError,
  OffsetOutOfRangeError,
  OutOfOrderSequenceError,
  ProducerFencedError,
  RateLimitedError,
  RecordTooLargeError,
  SchemaValidationError,
  SchemaVersionError,
  UnauthorizedError,
  UnknownTopicError,
  type SchemaValidationDetails,
} from '../log/errors.ts'
import type { ConfigEntry } from '../log/TopicConfig.ts'
import {
  adminTopicPath,
  formatReadFrom,
  H,
  JSON_CONTENT_TYPE,
  parseOffset,
  partitionPath,
  Q,
  readErrorBody,
  type LiveMode,
  type ReadTopicRecord,
  type TopicDescription,
} from '../protocol/index.ts'
import type { RemoteChunk, RemoteTopic, SyncTransport } from './SyncTransport.ts'

export interface HttpTransportOptions {
  /** The server's base URL, e.g. `https://api.example.com` (topics live under `/topics/...`). */
  url: string
  /**
   * A bearer token for every request. Asked again with `{ refresh: true }` after a 401, once per
   * request, so an expired token is replaced without failing the sync.
   */
  token?: (options: { refresh: boolean }) => string | Promise<string>
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch
}

/**
 * Sync over HTTP with a duality server: the Durable Streams protocol for reads (catch-up, then
 * long-poll) and idempotent appends (Producer-Id / -Epoch / -Seq), and the server's topic admin
 * API to describe a topic. Written on `fetch` alone, so it runs in a worker, Node or an edge
 * runtime. (`@durable-streams/client` was weighed: its producer keeps its sequence in memory
 * and re-claims epochs on restart, while sync must persist the sequence with each batch and
 * retry the very same batch; and its reads hide the per-record offsets a follower needs.)
 */
export function httpTransport(options: HttpTransportOptions): SyncTransport {
  const base = options.url.replace(/\/+$/, '')
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))

  const request = async (path: string, init: RequestInit, signal?: AbortSignal) => {
    for (let refresh = false; ; refresh = true) {
      const headers = new Headers(init.headers)
      if (options.token) headers.set('authorization', `Bearer ${await options.token({ refresh })}`)
      let response: Response
      try {
        response = await doFetch(`${base}${path}`, {
          ...init,
          headers,
          ...(signal ? { signal } : {}),
        })
      } catch (cause) {
        throw new NetworkError(`${init.method ?? 'GET'} ${base}${path} failed: ${String(cause)}`, {
          cause,
        })
      }
      if (response.status === 401 && options.token && !refresh) {
        await response.body?.cancel()
        continue
      }
      return response
    }
  }

  return {
    async describeTopic(topic, signal) {
      const response = await request(adminTopicPath(topic), {}, signal)
      if (!response.ok) throw await failure(response, `describe topic "${topic}"`)
      // Topics made before ids existed have none.
      const body = (await response.json()) as Omit<TopicDescription, 'id'> & { id?: string }
      const configEntries: ConfigEntry[] = Object.entries(body.config).map(([name, value]) => ({
        name,
        value: String(value),
      }))
      return {
        name: body.topic,
        id: body.id ?? '',
        numPartitions: body.numPartitions,
        configEntries,
      } satisfies RemoteTopic
    },

    async read(topic, partition, from, { live, signal }) {
      const query = new URLSearchParams({
        [Q.offset]: formatReadFrom(
          from === 'start' ? { kind: 'start' } : { kind: 'offset', offset: from },
        ),
        ...(live ? { [Q.live]: 'long-poll' satisfies LiveMode } : {}),
      })
      const response = await request(`${partitionPath(topic, partition)}?${query}`, {}, signal)
      if (response.status !== 200 && response.status !== 204) {
        throw await failure(response, `read ${topic}-${partition}`)
      }
      const next = parseOffset(response.headers.get(H.nextOffset))
      const upToDate = response.headers.get(H.upToDate) === 'true'
      const records = response.status === 204 ? [] : ((await response.json()) as ReadTopicRecord[])
      const chunk: RemoteChunk = {
        records: records.map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key,
          value: r.value === null || r.value === undefined ? null : JSON.stringify(r.value),
          headers: r.headers ?? null,
        })),
        // Without the header (not a conformant answer), past the last record read.
        nextOffset:
          next ?? (records.length > 0 ? records.at(-1)!.offset + 1 : from === 'start' ? 0 : from),
        upToDate,
      }
      return chunk
    },

    async append(topic, partition, records, producer, signal) {
      const body = `[${records
        .map((r) => {
          const head = `{"key":${JSON.stringify(r.key)},"value":${r.value ?? 'null'}`
          const headers = r.headers ? `,"headers":${JSON.stringify(r.headers)}` : ''
          return `${head}${headers},"timestamp":${r.timestamp}}`
        })
        .join(',')}]`
      const response = await request(
        partitionPath(topic, partition),
        {
          method: 'POST',
          body,
          headers: {
            'content-type': JSON_CONTENT_TYPE,
            [H.producerId]: producer.id,
            [H.producerEpoch]: String(producer.epoch),
            [H.producerSeq]: String(producer.seq),
          },
        },
        signal,
      )
      if (response.status === 200 || response.status === 204) {
        await response.body?.cancel()
        return { duplicate: response.status === 204 }
      }
      throw await failure(response, `append to ${topic}-${partition}`)
    },
  }
}

/** The typed error for a failed response, from its status and the server's `{ error }` body. */
async function failure(response: Response, what: string): Promise<DualityError> {
  let code = ''
  let message = `${what}: HTTP ${response.status}`
  let details: unknown
  try {
    const json: unknown = await response.json()
    const body = readErrorBody(json)
    code = body?.code ?? ''
    if (body?.message) message = `${what}: ${body.message}`
    details = (json as { error?: { details?: unknown } }).error?.details
  } catch {
    // Not JSON: the status says enough.
  }
  const status = response.status
  const has = (name: string) => response.headers.has(name)
  // The protocol's own signals first (any conformant server sends them), duality's codes second.
  if (status === 403 && (has(H.producerEpoch) || code === 'PRODUCER_FENCED'))
    return new ProducerFencedError(message)
  if (status === 409 && (has(H.producerExpectedSeq) || code === 'PRODUCER_SEQUENCE_GAP'))
    return new OutOfOrderSequenceError(message)
  if (status === 401) return new UnauthorizedError(message)
  if (status === 403) return new ForbiddenError(message)
  // Our own check of a send's expectation (expectedOffset / expectedKeyOffset), on the server.
  if (status === 409 && code === 'WRONG_EXPECTED_OFFSET') return new ConcurrencyError(message)
  if (status === 404) return new UnknownTopicError(message)
  if (status === 410) return new OffsetOutOfRangeError(message)
  if (status === 413) return new RecordTooLargeError(message)
  if (status === 429) return new RateLimitedError(message)
  if (status >= 500) return new NetworkError(message)
  // A record the topic refuses (a keyless record on a compacted topic, say): the batch, and the
  // pusher narrows it down to the record. Only these; a closed stream or a content-type conflict
  // (other 409s) is not the records' fault, so it must not empty the outbox: retried, and shown.
  // A typed topic's schema on the server refused a record (details: which one, which field).
  if (status === 400 && code === 'SCHEMA_VALIDATION_FAILED')
    return new SchemaValidationError(message, schemaDetails(details))
  if (status === 400 && code === 'UNSUPPORTED_SCHEMA_VERSION')
    return new SchemaVersionError(message)
  if (status === 400 || status === 422) return new InvalidRecordError(message)
  return new InvalidArgumentError(message)
}

/** The server's details of a schema refusal, if they have the expected shape (else none). */
function schemaDetails(details: unknown): SchemaValidationDetails | undefined {
  const d = details as Partial<SchemaValidationDetails> | null | undefined
  const ok =
    typeof d?.topic === 'string' &&
    Number.isSafeInteger(d.index) &&
    (d.field === 'value' || d.field === 'key') &&
    Array.isArray(d.issues)
  return ok ? (d as SchemaValidationDetails) : undefined
}
