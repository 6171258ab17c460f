import { toResponse, type Answer } from './answer.ts'
import { errorAnswer } from './errorResponse.ts'
import { formatOffset, H } from '../../protocol/index.ts'
import type { AppendOutcome, ProducerHeaders } from '../engine/outcomes.ts'
import type { Engine } from '../engine/Engine.ts'

const strictInteger = /^\d+$/
const maxProducerIdLength = 256

/** The producer headers: all three or none (PROTOCOL.md §5.2.1). */
export function parseProducer(headers: RequestHeaders): ProducerHeaders | undefined | string {
  const id = headers.get(H.producerId)
  const epoch = headers.get(H.producerEpoch)
  const seq = headers.get(H.producerSeq)
  if (id === null && epoch === null && seq === null) return undefined
  if (id === null || epoch === null || seq === null) {
    return 'Producer-Id, Producer-Epoch and Producer-Seq must be sent together'
  }
  if (id === '') return 'Producer-Id must not be empty'
  // Producer state is kept per stream for as long as the stream (JetStream: in its one metadata
  // entry), so an id's size is bounded.
  if (id.length > maxProducerIdLength) {
    return `Producer-Id must be at most ${maxProducerIdLength} characters`
  }
  const e = strictInteger.test(epoch) ? Number(epoch) : NaN
  const s = strictInteger.test(seq) ? Number(seq) : NaN
  if (!Number.isSafeInteger(e)) return 'Producer-Epoch must be an integer from 0 to 2^53-1'
  if (!Number.isSafeInteger(s)) return 'Producer-Seq must be an integer from 0 to 2^53-1'
  return { id, epoch: e, seq: s }
}

/** A request's headers by lower-case name (a web Headers, or node:http's headers behind a getter). */
export interface RequestHeaders {
  get(name: string): string | null
}

/** POST on hono: the web Response of appendAnswer. */
export async function handleAppend(
  engine: Engine,
  path: string,
  headers: RequestHeaders,
  body: Uint8Array,
): Promise<Response> {
  return toResponse(await appendAnswer(engine, path, headers, body))
}

/** POST: append, close, or both; maps the engine's outcome to the protocol's statuses. */
export async function appendAnswer(
  engine: Engine,
  path: string,
  headers: RequestHeaders,
  body: Uint8Array,
): Promise<Answer> {
  const producer = parseProducer(headers)
  if (typeof producer === 'string') return errorAnswer(400, 'BAD_REQUEST', producer)
  const close = headers.get(H.closed) === 'true'
  if (body.length === 0 && !close) {
    return errorAnswer(400, 'BAD_REQUEST', 'An append needs a non-empty body')
  }
  const contentType = headers.get('content-type') ?? undefined
  if (body.length > 0 && contentType === undefined) {
    return errorAnswer(400, 'BAD_REQUEST', 'An append needs a Content-Type')
  }
  const outcome = await engine.append({
    path,
    contentType,
    body,
    streamSeq: headers.get(H.seq) ?? undefined,
    producer,
    close,
  })
  return appendAnswerOf(outcome)
}

function appendAnswerOf(outcome: AppendOutcome): Answer {
  switch (outcome.kind) {
    case 'appended':
    case 'closed': {
      const h: Record<string, string> = { [H.nextOffset]: formatOffset(outcome.stream.nextOffset) }
      if (outcome.stream.closed) h[H.closed] = 'true'
      if (outcome.producer) {
        h[H.producerEpoch] = String(outcome.producer.epoch)
        h[H.producerSeq] = String(outcome.producer.seq)
      }
      // 200 tells an idempotent producer its batch is new; 204 is a plain append or a close.
      const fresh = outcome.kind === 'appended' && outcome.producer !== undefined
      return { status: fresh ? 200 : 204, headers: h }
    }
    case 'duplicate': {
      const h: Record<string, string> = {
        [H.producerEpoch]: String(outcome.epoch),
        [H.producerSeq]: String(outcome.lastSeq),
      }
      if (outcome.stream.closed) {
        h[H.closed] = 'true'
        h[H.nextOffset] = formatOffset(outcome.stream.nextOffset)
      }
      return { status: 204, headers: h }
    }
    case 'notFound':
      return errorAnswer(404, 'STREAM_NOT_FOUND', 'No stream at this path: create it with PUT')
    case 'gone':
      return errorAnswer(410, 'STREAM_GONE', 'The stream was deleted or expired')
    case 'streamClosed':
      return errorAnswer(409, 'STREAM_CLOSED', 'The stream is closed: no more appends', {
        [H.closed]: 'true',
        [H.nextOffset]: formatOffset(outcome.stream.nextOffset),
      })
    case 'contentTypeMismatch':
      return errorAnswer(
        409,
        'CONTENT_TYPE_MISMATCH',
        `The stream's content type is ${outcome.expected}`,
      )
    case 'staleEpoch':
      return errorAnswer(
        403,
        'PRODUCER_FENCED',
        `Producer epoch is stale: the current epoch is ${outcome.currentEpoch}`,
        { [H.producerEpoch]: String(outcome.currentEpoch) },
      )
    case 'invalidEpochSeq':
      return errorAnswer(400, 'BAD_REQUEST', 'A new producer epoch must start at Producer-Seq 0')
    case 'sequenceGap':
      return errorAnswer(
        409,
        'PRODUCER_SEQUENCE_GAP',
        `Producer-Seq ${outcome.received} leaves a gap: expected ${outcome.expected}`,
        {
          [H.producerExpectedSeq]: String(outcome.expected),
          [H.producerReceivedSeq]: String(outcome.received),
        },
      )
    case 'streamSeqConflict':
      return errorAnswer(
        409,
        'SEQUENCE_CONFLICT',
        `Stream-Seq must be greater than the last one (${outcome.last})`,
      )
    case 'badRequest':
      return outcome.tooLarge
        ? errorAnswer(413, 'MESSAGE_TOO_LARGE', outcome.message)
        : errorAnswer(400, 'INVALID_RECORD', outcome.message)
  }
}
