import { storeSnapshotLabel, StreamsBuilder } from '../../src/index.ts'

// The topology both snapshot suites (Node and Chromium) run: payments summed per key into the
// store `totals` of application `app`.

export const CHANGELOG = 'app-totals-changelog'

/** `store` names the materialized store: another name is a topology of another shape. */
export function totalsTopology(store = 'totals') {
  const builder = new StreamsBuilder()
  builder
    .stream<string, number>('payments')
    .groupByKey()
    .reduce((a, b) => a + b, { materialized: store })
  return builder.build()
}

/** The label the store `totals` of that topology's snapshots carry. */
export const totalsLabel = () => storeSnapshotLabel(totalsTopology(), 'totals')
