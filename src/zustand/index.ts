// duality/zustand: views of the worker as read-only zustand vanilla stores (no React needed).
export { createViewStore, type ViewStore, type ViewStoreOptions } from './createViewStore.ts'
export { ViewState, type ViewEntry, type ViewStatus, type WindowEntry } from './ViewState.ts'
export { queryView, type ViewPageResult } from './queryView.ts'
export { viewAsOf, type ViewAsOfResult } from './viewAsOf.ts'
export type { AsOf } from '../worker/views/viewWire.ts'
export { createAppend, type AppendOptions } from './createAppend.ts'
export type { KeyRange, ViewQuery } from '../worker/views/viewWire.ts'
export { createSyncStore, type SyncStore } from './createSyncStore.ts'
