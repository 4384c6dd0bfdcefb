// Retention in `serve`: once a day (and shortly after start), each site with `retentionDays` set
// loses its raw events and touches older than that (leads, deals and each lead's first and newest
// touch stay: store/retention-sql.ts), and rejected-event rows older than 30 days go for every site.
// With several collectors on one database each runs it; the deletes are idempotent.

import type { Store } from '../store/types.js'

const DAY_MS = 86_400_000
export const REJECTED_KEEP_DAYS = 30
/** Most days a site may keep raw data for (ten years): a typo of 36500 is an error, not a century. */
export const MAX_RETENTION_DAYS = 3650

export interface RetentionRun {
  sites: Array<{ siteId: string; events: number; touches: number }>
  rejected: number
}

/** One pass over every site, at `now`. */
export async function applyRetention(store: Store, now: number): Promise<RetentionRun> {
  const run: RetentionRun = { sites: [], rejected: 0 }
  for (const site of await store.listSites()) {
    const days = site.settings.retentionDays
    if (days === undefined || !(days > 0)) continue
    run.sites.push({ siteId: site.id, ...(await store.applyRetention(site.id, now - days * DAY_MS)) })
  }
  run.rejected = await store.pruneRejected(now - REJECTED_KEEP_DAYS * DAY_MS)
  return run
}

/** The daily job: first pass `firstDelayMs` after start, then every `intervalMs`; timers never hold the process. */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null

  constructor(
    private readonly store: Store,
    private readonly log: (fields: Record<string, unknown>, message: string) => void,
    private readonly opts: { firstDelayMs?: number; intervalMs?: number; now?: () => number } = {},
  ) {}

  start(): void {
    this.schedule(this.opts.firstDelayMs ?? 60_000)
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.running = applyRetention(this.store, (this.opts.now ?? Date.now)())
        .then((r) => {
          const removed = r.sites.reduce((n, s) => n + s.events + s.touches, 0) + r.rejected
          if (removed > 0) this.log({ ...r }, 'retention: old raw data deleted')
        })
        .catch((err: unknown) => this.log({ err: String(err) }, 'retention pass failed; next one tomorrow'))
        .finally(() => { this.running = null; this.schedule(this.opts.intervalMs ?? DAY_MS) })
    }, ms)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running
    if (this.timer) clearTimeout(this.timer)
  }
}
