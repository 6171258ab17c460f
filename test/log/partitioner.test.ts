import { expect, test } from 'vitest'
import { keyPartition, memoryStorage, murmur2, openLog, toPositive } from '../../src/index.ts'

const utf8 = (s: string) => new TextEncoder().encode(s)

test("murmur2 matches Kafka's UtilsTest.testMurmur2 vectors", () => {
  const cases: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ]
  for (const [input, hash] of cases) expect(murmur2(utf8(input)), input).toBe(hash)
  // Every tail length (0..3 bytes past a 4-byte block), from Kafka's Utils.murmur2 as used by Akka.
  const tails: [string, number][] = [
    ['1', -1993445489],
    ['12', 126087238],
    ['123', -267702483],
    ['1234', -1614185708],
    ['12345', -1188365604],
  ]
  for (const [input, hash] of tails) expect(murmur2(utf8(input)), input).toBe(hash)
})

test('toPositive clears the sign bit, as Kafka does (not Math.abs)', () => {
  expect(toPositive(-2147483648)).toBe(0)
  expect(toPositive(-1)).toBe(2147483647)
  expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff)
  expect(toPositive(5)).toBe(5)
})

test('keyed partition = toPositive(murmur2(utf8(key))) % partitions, for strings and bytes', () => {
  expect(keyPartition('foobar', 7)).toBe(toPositive(-790332482) % 7)
  expect(keyPartition(utf8('foobar'), 7)).toBe(keyPartition('foobar', 7))
  // Multi-byte UTF-8: the hash is over the encoded bytes, not UTF-16 code units.
  expect(keyPartition('café', 13)).toBe(
    toPositive(murmur2(new Uint8Array([99, 97, 102, 195, 169]))) % 13,
  )
})

test('record sizes count UTF-8 bytes, so max.message.bytes holds for multi-byte text', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  // 16 bytes of framing + key "k" (1) + the JSON text "\"é😀\"" (1 + 2 + 4 + 1 = 8) = 25 bytes.
  const limit = (topic: string, bytes: number) => ({
    topic,
    configEntries: [{ name: 'max.message.bytes', value: String(bytes) }],
  })
  await log.admin().createTopics({ topics: [limit('fits', 25), limit('tight', 24)] })
  const send = (topic: string) =>
    log.producer().send({ topic, messages: [{ key: 'k', value: 'é😀' }] })
  await expect(send('fits')).resolves.toHaveLength(1)
  await expect(send('tight')).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
  await log.close()
})
