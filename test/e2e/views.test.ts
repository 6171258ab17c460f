import type { Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startChromium, type ChromiumHarness } from '../support/chromium.ts'

// Real tabs, each with its own worker over one IndexedDB log; one of them runs the topology.
let chromium: ChromiumHarness
beforeAll(async () => {
  chromium = await startChromium()
})
afterAll(() => chromium?.close())

const shown = (page: Page, user: string, text: string) =>
  page.waitForFunction(
    ([user, text]) => document.getElementById(`total-${user}`)?.textContent === text,
    [user, text] as const,
    { timeout: 10_000 },
  )

test('a send in one tab updates a React view in another tab', async () => {
  const db = `views-${Date.now()}`
  const a = await chromium.open(`views.html?db=${db}`)
  const b = await chromium.open(`views.html?db=${db}`)
  await shown(b, 'ada', 'none')

  await a.evaluate(() => window.append('ada', 5))
  await shown(b, 'ada', '5')
  await shown(a, 'ada', '5')

  // The other way round: B's record is processed in whichever tab runs the topology, and the
  // changelog it writes reaches both tabs' views.
  await b.evaluate(() => window.append('bob', 7))
  await b.evaluate(() => window.append('ada', 1))
  await shown(a, 'bob', '7')
  await shown(a, 'ada', '6')
  await shown(b, 'ada', '6')
  const [inA, inB] = await Promise.all(
    [a, b].map((p) =>
      p.evaluate(() => ({
        entries: window.totals
          .getState()
          .all()
          .map((e) => [e.key, e.value]),
        offsets: window.totals.getState().offsets,
      })),
    ),
  )
  expect(inA!.entries).toEqual([
    ['ada', 6],
    ['bob', 7],
  ])
  // The same view in both tabs, down to the changelog offsets it reflects.
  expect(inB).toEqual(inA)

  // A tab opened later starts from the snapshot.
  const c = await chromium.open(`views.html?db=${db}`)
  await shown(c, 'ada', '6')
  await shown(c, 'bob', '7')
  await Promise.all([a.close(), b.close(), c.close()])
})
