import { createElement as h, type FormEvent } from 'react'
import { DevtoolsPanel } from '../src/devtools/index.ts'
import {
  shallowArray,
  useAppend,
  useRejections,
  useSyncStatus,
  useView,
  useViewKey,
  useWindows,
} from '../src/react/index.ts'
import type { ViewState } from '../src/zustand/index.ts'
import {
  CATEGORIES,
  CURRENCIES,
  DAY,
  HOME,
  VIEWS,
  type Converted,
  type Payment,
  type Rate,
} from './spending.ts'
import { useOffline } from './useOffline.ts'

// Every number below comes from a view (a store of the topology, mirrored from its changelog)
// or from the sync status; the components keep no state of their own but the offline switch.

const money = (cents: number) => `${(cents / 100).toFixed(2)} ${HOME}`

function SyncBar() {
  const sync = useSyncStatus()
  const [offline, setOffline] = useOffline()
  const pending = Object.values(sync?.topics ?? {}).reduce((n, t) => n + t.pending, 0)
  return h(
    'div',
    { className: 'bar' },
    h(
      'span',
      { id: 'connection', className: `conn ${sync?.connection ?? ''}` },
      sync?.connection ?? '…',
    ),
    h('span', null, 'pending: ', h('b', { id: 'pending-count' }, pending)),
    h(
      'label',
      null,
      h('input', {
        id: 'offline',
        type: 'checkbox',
        checked: offline,
        onChange: (e: { target: { checked: boolean } }) => setOffline(e.target.checked),
      }),
      ' offline (pull the network cable)',
    ),
  )
}

function PaymentForm() {
  const append = useAppend<{ payments: Payment }>()
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const payment: Payment = {
      id: crypto.randomUUID(),
      amount: Number(form.get('amount')),
      currency: String(form.get('currency')),
      merchant: String(form.get('merchant')),
      category: String(form.get('category')),
    }
    // The append is the whole of "paying": the views change because the log did.
    void append('payments', payment, { key: payment.id })
  }
  const select = (name: string, options: readonly string[]) =>
    h(
      'select',
      { id: name, name },
      options.map((o) => h('option', { key: o, value: o }, o)),
    )
  return h(
    'form',
    { onSubmit: submit },
    h('input', {
      id: 'amount',
      name: 'amount',
      type: 'number',
      step: '0.01',
      min: '0.01',
      defaultValue: '12.50',
      required: true,
    }),
    select('currency', CURRENCIES),
    h('input', { id: 'merchant', name: 'merchant', defaultValue: 'café', required: true }),
    select('category', CATEGORIES),
    h('button', { id: 'pay' }, 'Pay'),
  )
}

function Balance() {
  const total = useViewKey<string, number>(VIEWS.balance, 'total') ?? 0
  const pending = useView<string, number, boolean>(VIEWS.balance, (s) => s.isPending('total'))
  return h(
    'p',
    { className: 'balance' },
    'Spent so far: ',
    h('b', { id: 'balance', 'data-pending': String(pending) }, money(total)),
    pending ? h('span', { className: 'pending' }, ' (incl. pending)') : null,
  )
}

function Rates() {
  const rates = useView<string, Rate, Rate[]>(
    VIEWS.rates,
    (s) => s.all().map((e) => e.value),
    shallowArray,
  )
  return h(
    'table',
    { id: 'rates' },
    h(
      'tbody',
      null,
      rates.map((r) =>
        h(
          'tr',
          { key: r.currency },
          h('td', null, `1 ${r.currency}`),
          h('td', { id: `rate-${r.currency}` }, `${r.rate} ${HOME}`),
        ),
      ),
    ),
  )
}

function CategoryCell({ category, day }: { category: string; day: number }) {
  const windows = useWindows<string, number>(VIEWS.daily, category)
  const cents = windows.find((w) => w.window.start === day)?.value ?? 0
  return h('td', { id: day === today() ? `daily-${category}` : undefined }, money(cents))
}

const today = () => Math.floor(Date.now() / DAY) * DAY

function DailyTotals() {
  // The days that have a window in any category: all come from the view's keys.
  const days = useView<{ key: string; window: { start: number } }, number, number[]>(
    VIEWS.daily,
    (s) => [...new Set(s.all().map((e) => e.key.window.start))].sort((a, b) => b - a),
    (a, b) => a.join() === b.join(),
  )
  return h(
    'table',
    null,
    h(
      'thead',
      null,
      h('tr', null, h('th', null, 'day (UTC)'), ...CATEGORIES.map((c) => h('th', { key: c }, c))),
    ),
    h(
      'tbody',
      null,
      days.map((day) =>
        h(
          'tr',
          { key: day },
          h('td', null, new Date(day).toISOString().slice(0, 10)),
          ...CATEGORIES.map((c) => h(CategoryCell, { key: c, category: c, day })),
        ),
      ),
    ),
  )
}

function Payments() {
  const view = useView<string, Converted, ViewState<string, Converted>>(VIEWS.payments, (s) => s)
  const rows = view.all().sort((a, b) => b.timestamp - a.timestamp)
  return h(
    'table',
    { id: 'payments' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...['when', 'merchant', 'category', 'amount', 'rate', HOME, ''].map((c) =>
          h('th', { key: c }, c),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map(({ key, value: p, timestamp }) => {
        const pending = view.isPending(key)
        return h(
          'tr',
          {
            key,
            className: pending ? 'pending' : undefined,
            'data-payment': key,
            'data-pending': String(pending),
          },
          h('td', null, new Date(timestamp).toLocaleTimeString()),
          h('td', null, p.merchant),
          h('td', null, p.category),
          h('td', null, `${p.amount.toFixed(2)} ${p.currency}`),
          h('td', null, p.rate),
          h('td', { className: 'home' }, money(p.homeCents)),
          h('td', null, pending ? 'pending' : '✓'),
        )
      }),
    ),
  )
}

/**
 * Payments the server refused (over the limit per payment): they left the outbox and the views
 * rolled them back; they stay listed here, with the server's reason, until dismissed.
 */
function Rejected() {
  const { rejections, dismiss } = useRejections('payments')
  if (rejections.length === 0) return null
  return h(
    'section',
    { id: 'rejected' },
    h('h2', null, 'Refused by the server'),
    h(
      'ul',
      null,
      rejections.map((r) => {
        const p = r.value === null ? undefined : (JSON.parse(r.value) as Payment)
        return h(
          'li',
          { key: `${r.partition}:${r.offset}`, 'data-rejected': r.key ?? '' },
          p ? `${p.amount.toFixed(2)} ${p.currency} at ${p.merchant}: ` : '',
          h('span', { className: 'reason' }, reasonOf(r.error)),
          ' ',
          h('button', { onClick: () => void dismiss([r]) }, 'dismiss'),
        )
      }),
    ),
  )
}

/** The schema's own words where the server gave them (its issues), else its message. */
const reasonOf = (error: { message: string; details?: unknown }): string =>
  (error.details as { issues?: { message: string }[] } | undefined)?.issues
    ?.map((i) => i.message)
    .join('; ') || error.message

export function App() {
  return h(
    'main',
    null,
    h('h1', null, 'Spending abroad'),
    h(SyncBar),
    h(PaymentForm),
    h(Balance),
    h(
      'div',
      { className: 'cols' },
      h('section', null, h('h2', null, 'Rates'), h(Rates)),
      h('section', null, h('h2', null, 'Per category and day'), h(DailyTotals)),
    ),
    h('h2', null, 'Payments'),
    h(Rejected),
    h(Payments),
    h(
      'details',
      { id: 'devtools', open: true },
      h('summary', null, 'duality devtools'),
      h(DevtoolsPanel, { groups: ['spending'] }),
    ),
  )
}
