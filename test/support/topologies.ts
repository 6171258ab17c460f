import { StreamsBuilder } from '../../src/index.ts'

/** `payments` (string keys, number values) summed per key into the store 'totals'. */
export function paymentTotals() {
  const builder = new StreamsBuilder()
  builder
    .stream<string, number>('payments')
    .groupByKey()
    .reduce((a, b) => a + b, { materialized: 'totals' })
  return builder.build()
}
