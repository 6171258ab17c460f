import { createContext, createElement, useContext, type ReactNode } from 'react'
import type { Client } from '../worker/connect.ts'

const ClientContext = createContext<Client | null>(null)

/** Gives the hooks below it the connected client (`connect(worker)` from duality/worker). */
export function DualityProvider(props: { client: Client; children?: ReactNode }) {
  return createElement(ClientContext.Provider, { value: props.client }, props.children)
}

/** The client of the nearest DualityProvider. */
export function useClient(): Client {
  const client = useContext(ClientContext)
  if (!client) throw new Error('duality/react: wrap the component in <DualityProvider client={…}>')
  return client
}
