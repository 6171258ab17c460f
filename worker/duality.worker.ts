/// <reference lib="webworker" />
// The thin worker entry the tests and benchmarks use: one log per worker name, shared by every
// tab that starts this worker with the same name (`new Worker(url, { type: 'module', name })`).
import { serve } from '../src/worker/index.ts'

void serve({ name: self.name || 'duality' })
