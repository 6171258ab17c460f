import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { publishRates } from '../../demo/feeder.ts'
import { HOME, toCents, type Payment } from '../../demo/spending.ts'
import { startDemo, type RunningDemo } from '../../demo/startDemo.ts'
import { chromiumArgs, chromiumPath } from '../support/chromiumLaunch.js'

// The demo's versioned join (KIP-914): a payment made offline while the rates move on is
// converted at the rate of its own time once the server's copy comes back, although the newer
// rate reaches the device too, usually first (it is pulled in one step; the payment is pushed,
// then pulled back). With a plain table it met whatever rate the table held when it arrived.
// The expected result does not depend on which input the device gets first: the join reads the
// table as of the payment's timestamp, so this test needs no ordering between the two inputs.

let demo: RunningDemo
let browser: Browser
let dataDir: string

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'duality-demo-rates-'))
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

/** The rate column of the payment row whose merchant is `merchant`. */
const rateOf = (page: Page, merchant: string) =>
  page
    .locator('tr[data-payment]', { hasText: merchant })
    .locator('td')
    .nth(4)
    .textContent({ timeout: 1_000 })
    .catch(() => null)

test('a payment made offline converts at the rate of its time, not at the rates published while offline', async () => {
  const r1 = 0.9
  const r2 = 0.95
  const r3 = 1.01
  await publishRates(demo.server.url, [{ currency: 'USD', rate: r1 }])
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(demo.url)
  await until('rate 1', async () => (await text(page, '#rate-USD')) === `${r1} ${HOME}`)

  await page.click('#offline')
  await until('offline', async () => (await text(page, '#connection')) === 'offline')
  await pay(page, { amount: 10, currency: 'USD', merchant: 'offline-diner', category: 'food' })
  let balance = toCents(10, r1)
  await until('the offline payment, pending at rate 1', async () => {
    return (
      (await text(page, '#pending-count')) === '1' &&
      (await rateOf(page, 'offline-diner')) === String(r1) &&
      (await text(page, '#balance')) === money(balance)
    )
  })

  // While the device is offline the rates move on twice, on the server only.
  await publishRates(demo.server.url, [{ currency: 'USD', rate: r2 }])
  await publishRates(demo.server.url, [{ currency: 'USD', rate: r3 }])

  await page.click('#offline')
  // Online: the table has the new rate, and the payment, confirmed, still carries rate 1.
  await until('confirmed at the rate of its time', async () => {
    return (
      (await text(page, '#rate-USD')) === `${r3} ${HOME}` &&
      (await page.locator('tr[data-pending="true"]').count()) === 0 &&
      (await text(page, '#pending-count')) === '0' &&
      (await rateOf(page, 'offline-diner')) === String(r1) &&
      (await text(page, '#balance[data-pending="false"]')) === money(balance)
    )
  })

  // A payment made now meets the rate of now.
  await pay(page, { amount: 10, currency: 'USD', merchant: 'online-kiosk', category: 'fun' })
  balance += toCents(10, r3)
  await until('the online payment at rate 3', async () => {
    return (
      (await rateOf(page, 'online-kiosk')) === String(r3) &&
      (await page.locator('tr[data-pending="true"]').count()) === 0 &&
      (await text(page, '#balance')) === money(balance)
    )
  })

  // After a reload (the stores restored from their changelogs, the rates' history with them)
  // nothing changes.
  await page.reload()
  await until('the same after a reload', async () => {
    return (
      (await rateOf(page, 'offline-diner')) === String(r1) &&
      (await rateOf(page, 'online-kiosk')) === String(r3) &&
      (await text(page, '#balance')) === money(balance)
    )
  })
  expect(await text(page, '#rate-USD')).toBe(`${r3} ${HOME}`)
  await context.close()
}, 90_000) // a long scenario on a shared 2-core machine; each step has its own deadline above
