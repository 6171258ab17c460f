import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { publishRates } from '../../demo/feeder.ts'
import { HOME, toCents, type Payment } from '../../demo/spending.ts'
import { startDemo, type RunningDemo } from '../../demo/startDemo.ts'
import { chromiumArgs, chromiumPath } from '../support/chromiumLaunch.js'

// The demo as a user runs it: its server on SQLite in a temp dir, its Vite dev server, two tabs
// of Chromium. Rates come from the test (no feeder) so the expected conversions are known.

const OUT = new URL('../../test-results/e2e-demo/', import.meta.url).pathname
let demo: RunningDemo
let browser: Browser
let dataDir: string

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'duality-demo-'))
  demo = await startDemo({ dataDir, serverPort: 0, vitePort: 0, feederMs: 0, quiet: true })
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs })
})
afterAll(async () => {
  await browser?.close()
  await demo?.close()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

const money = (cents: number) => `${(cents / 100).toFixed(2)} ${HOME}`
const text = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .textContent({ timeout: 1_000 })
    .catch(() => null)

/** Polls until `check` holds (each try re-reads the page); fails with the last value seen. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function pay(page: Page, p: Omit<Payment, 'id'>) {
  await page.fill('#amount', String(p.amount))
  await page.selectOption('#currency', p.currency)
  await page.fill('#merchant', p.merchant)
  await page.selectOption('#category', p.category)
  await page.click('#pay')
}

async function serverPayments(): Promise<number> {
  let n = 0
  for (const partition of [0, 1]) {
    const res = await fetch(`${demo.server.url}/topics/payments/${partition}?offset=-1`)
    n += ((await res.json()) as unknown[]).length
  }
  return n
}

test('two tabs pay offline, converge online at the rates of the time, and survive a reload', async () => {
  const r1 = { USD: 0.9, GBP: 1.2 }
  const r2 = { USD: 0.95, GBP: 1.15 }
  await publishRates(demo.server.url, [
    { currency: 'USD', rate: r1.USD },
    { currency: 'GBP', rate: r1.GBP },
  ])
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
  const a = await context.newPage()
  const b = await context.newPage()
  await a.goto(demo.url)
  await b.goto(demo.url)
  for (const page of [a, b]) {
    await until('the rates', async () => (await text(page, '#rate-USD')) === `${r1.USD} ${HOME}`)
  }

  // Online: confirmed at rate 1.
  await pay(a, { amount: 10, currency: 'USD', merchant: 'diner', category: 'food' })
  let balance = toCents(10, r1.USD)
  let food = balance
  for (const page of [a, b]) {
    await until('the first payment, confirmed', async () => {
      return (
        (await text(page, '#balance')) === money(balance) &&
        (await page.locator('tr[data-pending="true"]').count()) === 0 &&
        (await page.locator('tr[data-payment]').count()) === 1
      )
    })
  }

  // New rates reach both tabs; then the network goes.
  await publishRates(demo.server.url, [
    { currency: 'USD', rate: r2.USD },
    { currency: 'GBP', rate: r2.GBP },
  ])
  for (const page of [a, b]) {
    await until('rate 2', async () => (await text(page, '#rate-USD')) === `${r2.USD} ${HOME}`)
  }
  await a.click('#offline')
  for (const page of [a, b]) {
    await until('offline', async () => (await text(page, '#connection')) === 'offline')
    expect(await page.isChecked('#offline')).toBe(true)
  }

  await pay(a, { amount: 20, currency: 'USD', merchant: 'taxi', category: 'transport' })
  await pay(b, { amount: 30, currency: 'GBP', merchant: 'pub', category: 'food' })
  balance += toCents(20, r2.USD) + toCents(30, r2.GBP)
  food += toCents(30, r2.GBP)
  for (const page of [a, b]) {
    await until('both offline payments, pending, in both tabs', async () => {
      return (
        (await page.locator('tr[data-pending="true"]').count()) === 2 &&
        (await text(page, '#pending-count')) === '2' &&
        (await text(page, '#balance')) === money(balance)
      )
    })
  }
  expect(await serverPayments()).toBe(1)

  // Back online: pushed, pulled back, confirmed; the pending marks go.
  await b.click('#offline')
  for (const page of [a, b]) {
    await until('convergence', async () => {
      return (
        (await text(page, '#connection')) !== 'offline' &&
        (await page.locator('tr[data-pending="true"]').count()) === 0 &&
        (await page.locator('tr[data-payment]').count()) === 3 &&
        (await text(page, '#pending-count')) === '0' &&
        (await text(page, '#balance')) === money(balance) &&
        (await text(page, '#daily-food')) === money(food) &&
        (await text(page, '#balance[data-pending="false"]')) !== null
      )
    })
  }
  expect(await serverPayments()).toBe(3)

  // The devtools panel reads the log; its compaction button runs the cleaner in the worker.
  const devtools = a.locator('[data-testid="devtools"]')
  await until('the devtools tables', async () => {
    return (await devtools.locator('td', { hasText: 'spending-balance-changelog' }).count()) > 0
  })
  await devtools.getByRole('button', { name: 'Run compaction' }).click()
  await until('compaction done', async () => {
    return (await devtools.getByRole('button', { name: 'Run compaction' }).isEnabled()) === true
  })

  mkdirSync(OUT, { recursive: true })
  await a.screenshot({ path: join(OUT, 'demo.png'), fullPage: true })
  await a.locator('[data-testid="devtools"]').screenshot({ path: join(OUT, 'devtools.png') })

  // A reload keeps everything (it is all in the log).
  await a.reload()
  await until('the state after a reload', async () => {
    return (
      (await text(a, '#balance')) === money(balance) &&
      (await a.locator('tr[data-payment]').count()) === 3 &&
      (await a.locator('tr[data-pending="true"]').count()) === 0
    )
  })

  // Offline across a reload: the switch holds, the worker never reaches the server, the
  // payment waits; back online it is confirmed like the others.
  await a.click('#offline')
  await b.reload()
  await until('offline after a reload', async () => (await text(b, '#connection')) === 'offline')
  await pay(b, { amount: 5, currency: 'USD', merchant: 'kiosk', category: 'fun' })
  balance += toCents(5, r2.USD)
  await until('the payment, pending', async () => {
    return (
      (await text(b, '#pending-count')) === '1' &&
      (await b.locator('tr[data-pending="true"]').count()) === 1
    )
  })
  expect(await serverPayments()).toBe(3)
  await b.click('#offline')
  for (const page of [a, b]) {
    await until('convergence after the reload', async () => {
      return (
        (await page.locator('tr[data-pending="true"]').count()) === 0 &&
        (await page.locator('tr[data-payment]').count()) === 4 &&
        (await text(page, '#balance')) === money(balance)
      )
    })
  }
  expect(await serverPayments()).toBe(4)

  // Over the server's limit per payment: shown at once, then refused by the server's schema,
  // rolled back in both tabs and listed with its reason until dismissed.
  await pay(a, { amount: 5000, currency: 'USD', merchant: 'yacht', category: 'fun' })
  for (const page of [a, b]) {
    await until('the refused payment, rolled back and listed', async () => {
      return (
        (await page.locator('[data-rejected]').count()) === 1 &&
        ((await text(page, '#rejected .reason')) ?? '').includes('over the limit of 1000 USD') &&
        (await page.locator('tr[data-payment]').count()) === 4 &&
        (await text(page, '#balance')) === money(balance) &&
        (await text(page, '#pending-count')) === '0'
      )
    })
  }
  expect(await serverPayments()).toBe(4)
  await a.click('#rejected button')
  for (const page of [a, b]) {
    await until('the rejection, dismissed', async () => {
      return (await page.locator('[data-rejected]').count()) === 0
    })
  }
  await context.close()
}, 120_000) // a long scenario on a shared 2-core machine; each step has its own deadline above
