import { base64 } from '../http/base64.ts'
import type { Principal } from './security.ts'

/**
 * Short-lived read tickets for browsers that cannot set an Authorization header (EventSource): an
 * authenticated client asks for one (`POST /auth/tickets`) and puts it in the URL as `?ticket=`.
 * A ticket only reads (GET, HEAD), only for its principal, and only until it expires; it stays
 * valid until then so that EventSource can reconnect with the same URL.
 */
export class Tickets {
  /** In order of issue, so of expiry: the expired ones are always at the front. */
  private readonly tickets = new Map<string, { principal: Principal; expiresAt: number }>()
  /** Each principal's live tickets, oldest first: a principal holds at most maxPerPrincipal. */
  private readonly byPrincipal = new Map<string, string[]>()

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxPerPrincipal = 100,
  ) {}

  issue(principal: Principal): { ticket: string; expiresAt: number } {
    const now = this.now()
    for (const [t, v] of this.tickets) {
      if (v.expiresAt > now) break
      this.forget(t, v.principal.id)
    }
    const held = this.byPrincipal.get(principal.id) ?? []
    if (held.length >= this.maxPerPrincipal) this.forget(held[0]!, principal.id)
    const ticket = base64(crypto.getRandomValues(new Uint8Array(32)), true)
    const expiresAt = now + this.ttlMs
    this.tickets.set(ticket, { principal, expiresAt })
    this.byPrincipal.set(principal.id, [...(this.byPrincipal.get(principal.id) ?? []), ticket])
    return { ticket, expiresAt }
  }

  private forget(ticket: string, principalId: string): void {
    this.tickets.delete(ticket)
    const rest = (this.byPrincipal.get(principalId) ?? []).filter((t) => t !== ticket)
    if (rest.length > 0) this.byPrincipal.set(principalId, rest)
    else this.byPrincipal.delete(principalId)
  }

  redeem(ticket: string): Principal | null {
    const entry = this.tickets.get(ticket)
    if (!entry) return null
    if (entry.expiresAt <= this.now()) {
      this.forget(ticket, entry.principal.id)
      return null
    }
    return entry.principal
  }
}
