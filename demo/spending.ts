// "Spending abroad": what the worker, the page, the feeder and the e2e test share — the topics
// (the same partition counts and config on the server and in the browser, as sync requires) and
// the topology (a KStream-KTable join, a daily window per category, a running balance).
import * as v from 'valibot'
import {
  defineTopic,
  Materialized,
  Stores,
  StreamsBuilder,
  TimeWindows,
  type TopicSpec,
} from '../src/index.ts'

export const HOME = 'EUR'
export const CURRENCIES = ['USD', 'GBP', 'JPY', 'CHF'] as const
export const CATEGORIES = ['food', 'transport', 'lodging', 'fun'] as const
export const DAY = 24 * 60 * 60 * 1000
/**
 * How far back the rates table keeps each currency's history: a payment made up to this long
 * before the latest rate still converts at the rate of its own time (an older one finds none).
 */
export const RATE_HISTORY_MS = DAY

/**
 * The rates, keyed by currency: compacted, so the topic keeps the latest rate of each, and every
 * rate for the history the table keeps (min.compaction.lag.ms), so a device that syncs later
 * still finds the rates its payments were made at.
 */
export const FX_RATES: TopicSpec = {
  topic: 'fx-rates',
  numPartitions: 1,
  configEntries: [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.compaction.lag.ms', value: String(RATE_HISTORY_MS) },
  ],
}
/** The user's payments, keyed by payment id. */
export const PAYMENTS: TopicSpec = { topic: 'payments', numPartitions: 2 }

/** `rate` home-currency units buy one unit of `currency`. */
export interface Rate {
  currency: string
  rate: number
}
export interface Payment {
  id: string
  amount: number
  currency: string
  merchant: string
  category: string
}
export interface Converted extends Payment {
  rate: number
  /** The amount in the home currency, in cents (integers add up exactly). */
  homeCents: number
}

/**
 * The most one payment may be, in its own currency: a rule of the server's (the bank's), checked
 * there only, so a payment over it is made and shown at once, then refused by the server, rolled
 * back and listed as rejected.
 */
export const PAYMENT_LIMIT: Readonly<Record<(typeof CURRENCIES)[number], number>> = {
  USD: 1000,
  GBP: 800,
  JPY: 150_000,
  CHF: 900,
}

const payment = v.object({
  id: v.string(),
  amount: v.pipe(v.number(), v.minValue(0.01)),
  currency: v.picklist(CURRENCIES),
  merchant: v.pipe(v.string(), v.minLength(1)),
  category: v.picklist(CATEGORIES),
})

/** The payments' shape, checked in the page before a send crosses to the worker. */
export const paymentsTopic = defineTopic({ name: PAYMENTS.topic, schema: payment })

/** What the server checks: the shape, and the limit per payment (the issue's path: amount). */
export const paymentsOnServer = defineTopic({
  name: PAYMENTS.topic,
  schema: v.pipe(
    payment,
    v.forward(
      v.check(
        (p) => p.amount <= PAYMENT_LIMIT[p.currency],
        (issue) => `over the limit of ${limitText(issue.input as Payment)} per payment`,
      ),
      ['amount'],
    ),
  ),
})

const limitText = (p: Payment) =>
  `${PAYMENT_LIMIT[p.currency as keyof typeof PAYMENT_LIMIT] ?? '?'} ${p.currency}`

/** The named stores become the page's views. */
export const VIEWS = {
  rates: 'rates',
  payments: 'converted-payments',
  daily: 'daily-by-category',
  balance: 'balance',
} as const

export const toCents = (amount: number, rate: number): number => Math.round(amount * rate * 100)

export function spendingTopology() {
  const builder = new StreamsBuilder()
  // A versioned table (KIP-889): it keeps each currency's rates over RATE_HISTORY_MS.
  const rates = builder.table<string, Rate>(FX_RATES.topic, {
    materialized: Materialized.as(
      Stores.persistentVersionedKeyValueStore(VIEWS.rates, RATE_HISTORY_MS),
    ),
  })
  // Re-key each payment by its currency and join it with the rate table: over a versioned table
  // each payment meets the rate as of its own timestamp (KIP-914), whenever it is processed. A
  // payment made offline while the rates moved on is converted at the rate of the time it was
  // made, even though the newer rates reach the device before the server's copy of it.
  const converted = builder
    .stream<string, Payment>(PAYMENTS.topic)
    .selectKey((_id, p) => p.currency)
    .join(rates, (p, r): Converted => ({
      ...p,
      rate: r.rate,
      homeCents: toCents(p.amount, r.rate),
    }))
  converted.selectKey((_currency, c) => c.id).toTable({ materialized: VIEWS.payments })
  converted
    .groupBy((_currency, c) => c.category)
    .windowedBy(TimeWindows.ofSizeWithNoGrace(DAY))
    .aggregate(
      () => 0,
      (_category, c, total: number) => total + c.homeCents,
      { materialized: VIEWS.daily },
    )
  converted
    .groupBy(() => 'total')
    .aggregate(
      () => 0,
      (_key, c, total: number) => total + c.homeCents,
      { materialized: VIEWS.balance },
    )
  return builder.build()
}
