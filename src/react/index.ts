// duality/react: React hooks over duality/zustand's view stores (React is an optional peer).
export { DualityProvider, useClient } from './DualityProvider.ts'
export { useViewStore } from './useViewStore.ts'
export { useView, useViewKey, useViewRange, useWindows } from './useView.ts'
export { useStoreSelector, shallowArray } from './useStoreSelector.ts'
export { useAppend } from './useAppend.ts'
export { useSyncStatus } from './useSyncStatus.ts'
export { useRejections } from './useRejections.ts'
