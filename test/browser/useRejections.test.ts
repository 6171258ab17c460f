import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { createElement } from 'react'
import { afterEach, beforeAll, expect, test } from 'vitest'
import { memoryStorage, memoryTransport, openLog } from '../../src/index.ts'
import { DualityProvider, useRejections } from '../../src/react/index.ts'
import { syncedWorker } from '../support/syncFixtures.ts'
import { until } from '../support/until.ts'

// useRejections in a component, in real Chromium (sync runs under a Web Lock): the server (an
// in-page one) refuses a send too large for its topic, the component lists it with the server's
// reason, and its dismiss removes it.

beforeAll(() => {
  // Store updates arrive from the worker's messages, outside act(): React need not warn.
  ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false
})

const closers: (() => unknown)[] = []
afterEach(async () => {
  cleanup()
  for (const close of closers.splice(0).reverse()) await close()
})

function Refused() {
  const { rejections, dismiss } = useRejections('payments')
  return createElement(
    'div',
    null,
    createElement(
      'ul',
      { 'data-testid': 'list' },
      rejections.map((r) =>
        createElement('li', { key: `${r.partition}:${r.offset}` }, `${r.key}: ${r.error.code}`),
      ),
    ),
    createElement('button', { onClick: () => void dismiss() }, 'dismiss'),
  )
}

test('useRejections lists the refused sends with their reason, and dismiss removes them', async () => {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  closers.push(() => leader.close())
  const payments = { topic: 'payments', numPartitions: 1 }
  await leader.admin().createTopics({
    topics: [{ ...payments, configEntries: [{ name: 'max.message.bytes', value: '200' }] }],
  })
  const worker = await syncedWorker({
    name: 'use-rejections',
    transport: memoryTransport(leader, { pollMs: 50 }),
    payments,
  })
  closers.push(() => worker.close())
  render(createElement(DualityProvider, { client: worker.client }, createElement(Refused)))
  await worker.client.producer().send({
    topic: 'payments',
    messages: [
      { key: 'small', value: { user: 'ann', amount: 1 } },
      { key: 'big', value: { user: 'bob', amount: 2, note: 'x'.repeat(500) } },
    ],
  })
  await until(() => screen.getByTestId('list').textContent === 'big: MESSAGE_TOO_LARGE')
  fireEvent.click(screen.getByText('dismiss'))
  await until(() => screen.getByTestId('list').textContent === '')
  expect(await worker.served.sync!.rejections('payments')).toEqual([])
})
