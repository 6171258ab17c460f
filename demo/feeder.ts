// The rate feeder: the "server side" of the demo, publishing exchange rates to the compacted
// fx-rates topic over the server's HTTP API, as any producer outside the browser would.
import { CURRENCIES, FX_RATES, type Rate } from './spending.ts'

/** Starting points (home currency per unit); the feeder walks them a little each tick. */
const BASE: Record<string, number> = { USD: 0.92, GBP: 1.17, JPY: 0.0061, CHF: 1.04 }

/** Appends rates (one record per currency, keyed by it) to fx-rates partition 0. */
export async function publishRates(serverUrl: string, rates: Rate[]): Promise<void> {
  const res = await fetch(`${serverUrl}/topics/${FX_RATES.topic}/0`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rates.map((r) => ({ key: r.currency, value: r }))),
  })
  await res.body?.cancel()
  if (!res.ok) throw new Error(`publishing rates failed: HTTP ${res.status}`)
}

/** Publishes a random walk of the rates every `everyMs`; returns a stop function. */
export function startFeeder(serverUrl: string, everyMs = 5_000): () => void {
  const current = { ...BASE }
  const tick = () => {
    const rates = CURRENCIES.map((currency) => {
      const base = BASE[currency]!
      // ±1% a tick, kept within ±10% of the base so the demo's numbers stay plausible.
      const next = current[currency]! * (1 + (Math.random() - 0.5) * 0.02)
      current[currency] = Math.min(base * 1.1, Math.max(base * 0.9, next))
      return { currency, rate: Number(current[currency]!.toPrecision(4)) }
    })
    publishRates(serverUrl, rates).catch((error: unknown) =>
      console.error('rate feeder:', String(error)),
    )
  }
  tick()
  const timer = setInterval(tick, everyMs)
  return () => clearInterval(timer)
}
