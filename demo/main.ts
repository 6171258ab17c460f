import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { DualityProvider } from '../src/react/index.ts'
import { connect } from '../src/worker/index.ts'
import { App } from './App.ts'
import { announce } from './network.ts'

// One worker per tab, all over one IndexedDB log; the worker syncs with the server.
const client = connect(
  new Worker(new URL('../worker/demo.worker.ts', import.meta.url), { type: 'module' }),
)
// The workers start online; tell them where the switch is (it survives reloads).
announce()
createRoot(document.getElementById('root')!).render(
  createElement(DualityProvider, { client }, createElement(App)),
)
