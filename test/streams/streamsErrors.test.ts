import { expect, test } from 'vitest'
import {
  KafkaStreams,
  memoryStorage,
  openLog,
  ProcessingError,
  StreamsBuilder,
  type KafkaStreamsState,
  type Log,
} from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'

/** Parses numbers; "boom" makes the mapper throw, as a bug in user code would. */
function topology() {
  const builder = new StreamsBuilder()
  builder
    .stream<string, string>('in')
    .mapValues((v) => {
      if (v === 'boom') throw new TypeError(`cannot parse ${v}`)
      return Number(v)
    })
    .groupByKey()
    .reduce((a, b) => a + b, { materialized: 'sums' })
    .toStream()
    .to('out')
  return builder.build()
}

async function withInput(values: string[]): Promise<Log> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'in' }, { topic: 'out' }] })
  await log.producer().send({
    topic: 'in',
    messages: values.map((value, i) => ({ key: 'k', value, timestamp: i })),
  })
  return log
}

async function committed(log: Log, groupId: string): Promise<number> {
  const [topic] = await log.admin().fetchOffsets({ groupId, topics: ['in'] })
  return topic!.partitions[0]!.offset
}

test('a throwing mapper stops the instance with a ProcessingError naming the processor and the record', async () => {
  const log = await withInput(['1', '2', 'boom', '4'])
  const streams = new KafkaStreams(topology(), log, { applicationId: 'p', maxRecordsPerBatch: 1 })
  const states: KafkaStreamsState[] = []
  streams.onStateChange((s) => states.push(s))
  const failed = new Promise<unknown>((resolve) => streams.onError(resolve))
  await streams.start()
  const error = await failed
  expect(error).toBeInstanceOf(ProcessingError)
  const e = error as ProcessingError
  expect(e.code).toBe('PROCESSING_ERROR')
  expect(e.processor).toMatch(/^KSTREAM-MAPVALUES-\d+$/)
  expect(e.source).toEqual({ topic: 'in', partition: 0, offset: 2 })
  expect(e.message).toContain('cannot parse boom')
  expect(e.message).toContain('in-0@2')
  expect(e.cause).toBeInstanceOf(TypeError)
  expect(streams.currentState).toBe('ERROR')
  expect(states).toEqual(['REBALANCING', 'RUNNING', 'ERROR'])
  // The two good records before it committed; the failing batch did not.
  expect(await committed(log, 'p')).toBe(2)
  await streams.close()
})

test("processingExceptionHandler 'CONTINUE' skips the record, counts it, and goes on", async () => {
  const log = await withInput(['1', 'boom', '4'])
  const skipped: string[] = []
  const streams = new KafkaStreams(topology(), log, {
    applicationId: 'c',
    pollMs: 5,
    processingExceptionHandler: (error, record) => {
      skipped.push(`${error.processor.split('-0')[0]}:${String(record.value)}`)
      return 'CONTINUE'
    },
  })
  await streams.start()
  for (let i = 0; i < 200 && (await committed(log, 'c')) < 3; i++) {
    await new Promise((r) => setTimeout(r, 5))
  }
  expect(await committed(log, 'c')).toBe(3)
  expect(skipped).toEqual(['KSTREAM-MAPVALUES:boom'])
  expect(streams.store<string, number>('sums').get('k')).toBe(5)
  expect(streams.currentState).toBe('RUNNING')
  await streams.close()
  expect(streams.currentState).toBe('NOT_RUNNING')
})

test('in the test driver the ProcessingError reaches the caller at once', () => {
  const driver = new TopologyTestDriver(topology())
  const input = driver.createInputTopic<string, string>('in')
  input.pipeInput('k', '1')
  expect(() => input.pipeInput('k', 'boom')).toThrow(ProcessingError)
  expect(() => input.pipeInput('k', 'boom')).toThrow(/KSTREAM-MAPVALUES-\d+ failed: cannot parse/)
  input.pipeInput('k', '2')
  expect(driver.getKeyValueStore('sums').get('k')).toBe(3)
})
