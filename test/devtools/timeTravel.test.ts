// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { createElement } from 'react'
import { afterEach, beforeAll, expect, test } from 'vitest'
import { DevtoolsPanel } from '../../src/devtools/index.ts'
import { memoryStorage, StreamsBuilder } from '../../src/index.ts'
import { DualityProvider } from '../../src/react/index.ts'
import { connect, serve } from '../../src/worker/index.ts'

// The devtools' time slider in jsdom over a worker served in-process: every view as of the
// chosen time, replayed by the worker (viewAsOf); the live store does not move.

beforeAll(() => {
  ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false
})

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  cleanup()
  for (const close of closers.splice(0).reverse()) await close()
})

test('the time slider shows every view as it was at the chosen time', async () => {
  const builder = new StreamsBuilder()
  builder
    .stream<string, number>('payments')
    .groupByKey()
    .reduce((a, b) => a + b, { materialized: 'totals' })
  const { port1, port2 } = new MessageChannel()
  const served = await serve({
    name: 'time-travel',
    storage: memoryStorage(),
    endpoint: port1,
    groups: false,
    cleaner: false,
    topics: [{ topic: 'payments' }],
    streams: { applicationId: 'app', topology: builder.build(), pollMs: 20 },
  })
  closers.push(() => served.close())
  // ada pays 1 at t=1000, 2 at t=2000, ... 5 at t=5000.
  await served.log.producer().send({
    topic: 'payments',
    messages: [1, 2, 3, 4, 5].map((v) => ({ key: 'ada', value: v, timestamp: v * 1000 })),
  })
  const client = connect(port2)
  closers.push(() => {
    client.close()
    port1.close()
    port2.close()
  })
  render(
    createElement(
      DualityProvider,
      { client },
      createElement(DevtoolsPanel, { refreshMs: 50, timeTravel: { from: 0, to: 5000 } }),
    ),
  )
  const row = () => document.querySelector('.duality-time-travel tbody tr')?.textContent
  // At the end of the range: everything.
  await waitFor(() => expect(row()).toBe('totals1"ada"=15'))
  // At 2.5 s: the payments of 1 and 2.
  fireEvent.change(screen.getByRole('slider'), { target: { value: '2500' } })
  await waitFor(() => expect(row()).toBe('totals1"ada"=3'))
  // Before the first payment: empty.
  fireEvent.change(screen.getByRole('slider'), { target: { value: '500' } })
  await waitFor(() => expect(row()).toBe('totals0'))
  await waitFor(() => expect(served.streams!.store('totals').get('ada')).toBe(15))
})
