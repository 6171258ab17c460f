// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { createElement } from 'react'
import { afterEach, beforeAll, expect, test } from 'vitest'
import { DevtoolsPanel } from '../../src/devtools/index.ts'
import { memoryStorage } from '../../src/index.ts'
import { DualityProvider } from '../../src/react/index.ts'
import { connect, serve } from '../../src/worker/index.ts'

// The devtools panel in jsdom over a worker served in-process (memory storage, a MessageChannel).

beforeAll(() => {
  // The panel updates from the worker's messages, outside act(): React need not warn.
  ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false
})

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  cleanup()
  for (const close of closers.splice(0).reverse()) await close()
})

const BASE = new Date(2026, 10, 22, 12, 0, 0).getTime() // local noon: what a datetime-local means

async function setup() {
  const { port1, port2 } = new MessageChannel()
  const served = await serve({
    name: 'devtools',
    storage: memoryStorage(),
    endpoint: port1,
    groups: false,
    cleaner: false,
    topics: [{ topic: 'events' }],
  })
  closers.push(() => served.close())
  await served.log.producer().send({
    topic: 'events',
    // One record a minute from local noon: offset i at BASE + i minutes.
    messages: Array.from({ length: 30 }, (_, i) => ({
      key: `k${i}`,
      value: i,
      timestamp: BASE + i * 60_000,
    })),
  })
  const client = connect(port2)
  closers.push(() => {
    client.close()
    port1.close()
    port2.close()
  })
  render(
    createElement(DualityProvider, { client }, createElement(DevtoolsPanel, { refreshMs: 50 })),
  )
  return served
}

/** The offsets in the record browser's table. */
const shownOffsets = () =>
  [...document.querySelectorAll('.duality-records tbody tr')].map((tr) =>
    Number(tr.querySelector('td')!.textContent),
  )

test('the record browser follows the tail, seeks to an offset, and seeks to a time', async () => {
  const served = await setup()
  // Following the tail: the last page (20 records).
  await waitFor(() => expect(shownOffsets()).toEqual(Array.from({ length: 20 }, (_, i) => 10 + i)))
  // New records appear while following.
  await served.log.producer().send({ topic: 'events', messages: [{ key: 'new', value: 30 }] })
  await waitFor(() => expect(shownOffsets().at(-1)).toBe(30))

  // Seek to an offset: following stops, the page starts there.
  fireEvent.change(screen.getByRole('spinbutton'), { target: { value: '3' } })
  await waitFor(() => expect(shownOffsets()[0]).toBe(3))
  expect((screen.getByRole('checkbox') as HTMLInputElement).checked).toBe(false)
  expect(shownOffsets()).toHaveLength(20)

  // Seek to a time: the first record at or after it (12:07:30 -> offset 8, at 12:08).
  const time = document.querySelector('input[type="datetime-local"]')!
  fireEvent.change(time, { target: { value: '2026-11-22T12:07:30' } })
  await waitFor(() => expect(shownOffsets()[0]).toBe(8))
})

test('the panel lists topics with their offsets and compaction state', async () => {
  await setup()
  await waitFor(() => expect(document.body.textContent).toContain('events'))
  const row = [...document.querySelectorAll('tr')].find((tr) =>
    tr.textContent?.startsWith('events'),
  )
  expect(row?.textContent).toContain('delete')
})

test('the panel shows what the platform says of its storage (here: nothing, so unknown)', async () => {
  await setup()
  await waitFor(() => expect(screen.getByTestId('devtools-storage')).toBeTruthy())
  // jsdom has no StorageManager: the panel says so rather than showing made-up figures.
  expect(screen.getByTestId('devtools-storage').textContent).toBe(
    'persistence unknown, usage unknown',
  )
})
