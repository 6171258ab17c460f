import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { DualityProvider, useViewKey } from '../../../src/react/index.ts'
import { connect } from '../../../src/worker/index.ts'
import { createAppend, createViewStore, type ViewStore } from '../../../src/zustand/index.ts'

// A tab with a React view of 'totals' (one <p> per user) over its own worker.
declare global {
  interface Window {
    append: (user: string, amount: number) => Promise<unknown>
    totals: ViewStore<string, number>
    ready: boolean
  }
}

const db = new URL(location.href).searchParams.get('db') ?? 'views'
const worker = new Worker(new URL('./views.worker.ts', import.meta.url), {
  type: 'module',
  name: db,
})
const client = connect(worker)
const append = createAppend<{ payments: number }>(client)
window.append = (user, amount) => append('payments', amount, { key: user })
window.totals = createViewStore<string, number>(client, 'totals')

function Total({ user }: { user: string }) {
  const total = useViewKey<string, number>('totals', user)
  return createElement('p', { id: `total-${user}` }, String(total ?? 'none'))
}

createRoot(document.getElementById('root')!).render(
  createElement(
    DualityProvider,
    { client },
    ['ada', 'bob'].map((user) => createElement(Total, { user, key: user })),
  ),
)
await window.totals.ready
window.ready = true
