import { createElement as h, useEffect, useState } from 'react'
import type { Client } from '../worker/connect.ts'
import { viewAsOf } from '../zustand/viewAsOf.ts'

const SHOWN = 5

/** One view as of the chosen time: its size and first entries, or why it cannot be replayed. */
interface Row {
  view: string
  size: number | null
  first: string
}

/**
 * A slider over [from, to] (ms) that shows every view as it was at the chosen time (viewAsOf:
 * replayed by the worker, nothing live changes). A view no topology makes says so in its row.
 */
export function TimeTravel(props: { client: Client; views: string[]; from: number; to: number }) {
  const { client, views, from, to } = props
  const [time, setTime] = useState(to)
  const [rows, setRows] = useState<Row[]>([])
  const key = views.join('\u0000')
  useEffect(() => {
    let live = true
    void Promise.all(
      views.map(async (view): Promise<Row> => {
        try {
          const { entries } = await viewAsOf(client, view, { timestamp: time })
          const first = entries
            .slice(0, SHOWN)
            .map((e) => `${JSON.stringify(e.key)}=${JSON.stringify(e.value)}`)
          return { view, size: entries.length, first: first.join(', ') }
        } catch (error) {
          return { view, size: null, first: (error as Error).message }
        }
      }),
    ).then((next) => live && setRows(next))
    return () => {
      live = false
    }
    // `key` stands for `views` (a new array each render).
  }, [client, key, time])
  return h(
    'div',
    { className: 'duality-time-travel' },
    h('input', {
      type: 'range',
      'aria-label': 'views as of',
      min: from,
      max: to,
      step: 1,
      value: time,
      onChange: (event: { target: { value: string } }) => setTime(Number(event.target.value)),
    }),
    h('span', null, ` as of ${new Date(time).toISOString()}`),
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h('tr', null, h('th', null, 'view'), h('th', null, 'entries'), h('th', null, 'first')),
      ),
      h(
        'tbody',
        null,
        rows.map((r) =>
          h(
            'tr',
            { key: r.view },
            h('td', null, r.view),
            h('td', null, r.size ?? '-'),
            h('td', null, r.first),
          ),
        ),
      ),
    ),
  )
}
