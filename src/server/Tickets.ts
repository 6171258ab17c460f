import { randomBytes } from 'node:crypto'
import type { Principal } from './security.ts'

/**
 * Short-lived read tickets for browsers that cannot set an Authorization header (EventSource): an
 * authenticated client asks for one (`POST /auth/tickets`) and puts it in the URL as `?ticket=`.
 * A ticket only reads (GET, HEAD), only for its principal, and only until it expires; it stays
 * valid until then so that EventSource can reconnect with the same URL.
 */
export class Tickets {
  private readonly tickets = new Map<string, { principal: Principal; expiresAt: number }>()

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  issue(principal: Principal): { ticket: string; expiresAt: number } {
    const now = this.now()
    for (const [t, v] of this.tickets) if (v.expiresAt <= now) this.tickets.delete(t)
    const ticket = randomBytes(32).toString('base64url')
    const expiresAt = now + this.ttlMs
    this.tickets.set(ticket, { principal, expiresAt })
    return { ticket, expiresAt }
  }

  redeem(ticket: string): Principal | null {
    const entry = this.tickets.get(ticket)
    if (!entry) return null
    if (entry.expiresAt <= this.now()) {
      this.tickets.delete(ticket)
      return null
    }
    return entry.principal
  }
}
