import { expect, test } from 'vitest'
import { httpTransport } from '../../src/index.ts'

const respond = (status: number, body: string, headers: Record<string, string> = {}) =>
  httpTransport({ url: 'http://x', fetch: async () => new Response(body, { status, headers }) })
const rec = [{ key: 'k', value: '1', headers: null, timestamp: 1 }]
const producer = { id: 'p', epoch: 0, seq: 2 }

test('a Durable Streams sequence gap (409 + Producer-Expected-Seq, no duality error code) is a sequence error', async () => {
  const t = respond(409, 'sequence gap', {
    'producer-expected-seq': '1',
    'producer-received-seq': '2',
  })
  const error = await t.append('payments', 0, rec, producer).catch((e) => e)
  expect(error.name).toBe('OutOfOrderSequenceError') // got InvalidRecordError: the Pusher drops the records
})

test('a Durable Streams stale epoch (403 + Producer-Epoch, no duality error code) is a fencing error', async () => {
  const t = respond(403, 'stale epoch', { 'producer-epoch': '3' })
  const error = await t.append('payments', 0, rec, producer).catch((e) => e)
  expect(error.name).toBe('ProducerFencedError') // got UnauthorizedError: retried forever
})

test("duality's own 409 STREAM_CLOSED is not a refusal of the records", async () => {
  const t = respond(409, JSON.stringify({ error: { code: 'STREAM_CLOSED', message: 'closed' } }))
  const error = await t.append('payments', 0, rec, producer).catch((e) => e)
  expect(error.name).not.toBe('InvalidRecordError') // the Pusher would reject every pending record one by one
})
