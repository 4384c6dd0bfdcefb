// Dashboard sign-in sessions: the cookie holds only an opaque random ID; this in-memory map
// holds which site it belongs to. Signing out deletes the entry, so a copied cookie dies with it.
// Kept per process: behind a load balancer with several collectors, use sticky sessions
// (docs/dashboard.md).

import { randomBytes } from 'node:crypto'

export interface DashboardSession {
  siteId: string
  expiresAt: number
}

export interface SessionOptions {
  /** Session lifetime in ms; default 12 hours (a working day, no sliding renewal). */
  ttlMs?: number
  /** Upper bound on live sessions; the oldest is dropped beyond it, so sign-ins cannot exhaust memory. */
  maxSessions?: number
}

export class SessionStore {
  private readonly sessions = new Map<string, DashboardSession>()
  private readonly ttlMs: number
  private readonly maxSessions: number

  constructor(opts: SessionOptions = {}, private readonly now: () => number = Date.now) {
    this.ttlMs = opts.ttlMs ?? 12 * 3_600_000
    this.maxSessions = opts.maxSessions ?? 10_000
  }

  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000)
  }

  create(siteId: string): string {
    // 256 bits from the CSPRNG: unguessable, and carries no meaning.
    const id = randomBytes(32).toString('base64url')
    if (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next()
      if (!oldest.done) this.sessions.delete(oldest.value)
    }
    this.sessions.set(id, { siteId, expiresAt: this.now() + this.ttlMs })
    return id
  }

  get(id: string | undefined): DashboardSession | null {
    if (!id) return null
    const s = this.sessions.get(id)
    if (!s) return null
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id)
      return null
    }
    return s
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id)
  }

  get size(): number {
    return this.sessions.size
  }
}
