import { expect, test } from 'vitest'
import {
  httpTransport,
  InvalidArgumentError,
  OutOfOrderSequenceError,
  ProducerFencedError,
} from '../../src/index.ts'

const respond = (status: number, body: string, headers: Record<string, string> = {}) =>
  httpTransport({ url: 'http://x', fetch: async () => new Response(body, { status, headers }) })
const rec = [{ key: 'k', value: '1', headers: null, timestamp: 1 }]
const producer = { id: 'p', epoch: 0, seq: 2 }

/** What the append rejected with; null if it succeeded (then every assertion below fails). */
const failureOf = (t: ReturnType<typeof respond>) =>
  t.append('payments', 0, rec, producer).then(
    () => null,
    (error: unknown) => error,
  )

test('a Durable Streams sequence gap (409 + Producer-Expected-Seq, no duality error code) is a sequence error', async () => {
  const t = respond(409, 'sequence gap', {
    'producer-expected-seq': '1',
    'producer-received-seq': '2',
  })
  const error = await failureOf(t)
  // Not InvalidRecordError: the Pusher would drop the records. The body is not JSON: the status
  // is the message.
  expect(error).toBeInstanceOf(OutOfOrderSequenceError)
  expect(error).toMatchObject({
    name: 'OutOfOrderSequenceError',
    code: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    message: 'append to payments-0: HTTP 409',
  })
})

test('a Durable Streams stale epoch (403 + Producer-Epoch, no duality error code) is a fencing error', async () => {
  const t = respond(403, 'stale epoch', { 'producer-epoch': '3' })
  const error = await failureOf(t)
  // Not UnauthorizedError: that is retried forever with the same epoch.
  expect(error).toBeInstanceOf(ProducerFencedError)
  expect(error).toMatchObject({
    name: 'ProducerFencedError',
    code: 'PRODUCER_FENCED',
    message: 'append to payments-0: HTTP 403',
  })
})

test("duality's own 409 STREAM_CLOSED is not a refusal of the records", async () => {
  const t = respond(409, JSON.stringify({ error: { code: 'STREAM_CLOSED', message: 'closed' } }))
  const error = await failureOf(t)
  // Not InvalidRecordError (the Pusher would reject every pending record one by one): an error
  // the Pusher retries and shows, with the server's message.
  expect(error).toBeInstanceOf(InvalidArgumentError)
  expect(error).toMatchObject({
    name: 'InvalidArgumentError',
    code: 'INVALID_ARGUMENT',
    message: 'append to payments-0: closed',
  })
})
