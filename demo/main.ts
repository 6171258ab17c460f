import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { DualityProvider } from '../src/react/index.ts'
import { connect } from '../src/worker/index.ts'
import { App } from './App.ts'
import { answerWorkers } from './network.ts'
import { paymentsTopic } from './spending.ts'

// Workers ask where the offline switch is when they start (it survives reloads): listen first.
answerWorkers()
// One worker per tab, all over one IndexedDB log; the worker syncs with the server.
const client = connect(
  new Worker(new URL('../worker/demo.worker.ts', import.meta.url), { type: 'module' }),
  { schemas: [paymentsTopic] },
)
createRoot(document.getElementById('root')!).render(
  createElement(DualityProvider, { client }, createElement(App)),
)
