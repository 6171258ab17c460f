import { useMemo } from 'react'
import { createAppend } from '../zustand/index.ts'
import { useClient } from './DualityProvider.ts'

/** createAppend for the provider's client: `const append = useAppend<Events>()`. */
export function useAppend<Events extends Record<string, unknown>>() {
  const client = useClient()
  return useMemo(() => createAppend<Events>(client), [client])
}
