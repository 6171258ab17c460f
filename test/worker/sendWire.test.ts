import { expect, test } from 'vitest'
import { decodeSendWire, SendWireBuilder } from '../../src/worker/sendWire.ts'

test("a send's expectations cross the wire per message, and messages without any get none", () => {
  const builder = new SendWireBuilder()
  builder.add({ topic: 'a', messages: [{ key: 'x', value: 1 }] })
  builder.add({
    topic: 'b',
    messages: [
      { key: 'k', value: { n: 1 }, expectedKeyOffset: -1 },
      { key: 'k', value: { n: 2 }, expectedOffset: 7, expectedKeyOffset: 6 },
      { key: 'j', value: null },
    ],
  })
  // Cloned as postMessage would.
  const sends = decodeSendWire(structuredClone(builder.wire))
  expect(sends.map((s) => s.record)).toStrictEqual([
    { topic: 'a', messages: [{ key: 'x', value: '1' }] },
    {
      topic: 'b',
      messages: [
        { key: 'k', value: '{"n":1}', expectedKeyOffset: -1 },
        { key: 'k', value: '{"n":2}', expectedOffset: 7, expectedKeyOffset: 6 },
        { key: 'j', value: null },
      ],
    },
  ])
})
