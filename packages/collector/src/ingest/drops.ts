// Events that were not stored, counted by reason: in /metrics (closeloop_events_dropped_total, with
// the site when known), in the site's data-quality report (bot, origin, suppressed; invalid events
// are there already as rejected events), and one log line with a hint the first time a site drops
// for a reason, so "200 and nothing stored" is never silent.

import type { FastifyBaseLogger } from 'fastify'
import type { AppContext } from '../http/context.js'
import type { DropReason, Site } from '../store/types.js'

/** `unknown_key` has no site to count under: /metrics only. */
export type DropOutcome = DropReason | 'unknown_key' | 'invalid'

const HINTS: Record<DropOutcome, (site: Site | null) => string> = {
  bot: (s) => `the User-Agent is a bot's (headless browsers included): counted, not stored; to test with a headless browser run \`closeloop sites update --name "${s?.name ?? 'SITE'}" --keep-bots\``,
  unknown_key: () => 'no site has this key: check data-site="pk_…" on the page (or the secret key) against `closeloop sites list`',
  origin: (s) => `the page's Origin is not among the site's origins: add it with \`closeloop sites update --name "${s?.name ?? 'SITE'}" --origin https://…\``,
  suppressed: () => 'the events belong to an erased person: dropped by design',
  invalid: () => 'the events failed validation: see "Rejected events" in the dashboard\'s Data quality view',
}

// Per context (one per app), so separate apps in one process (tests) each log their first drop.
const logged = new WeakMap<AppContext, Set<string>>()

export async function recordDrop(
  ctx: AppContext, log: FastifyBaseLogger, site: Site | null, reason: DropOutcome, count: number, receivedAt: number,
): Promise<void> {
  if (count <= 0) return
  ctx.metrics.eventsDropped.inc(site ? { reason, site: site.name } : { reason }, count)
  let seen = logged.get(ctx)
  if (!seen) logged.set(ctx, (seen = new Set()))
  const key = `${site?.id ?? ''}\n${reason}`
  if (!seen.has(key)) {
    seen.add(key)
    log.warn({ site: site?.name ?? null, reason, hint: HINTS[reason](site) }, `events dropped (${reason}); later drops of this site and reason are only counted`)
  }
  if (site && (reason === 'bot' || reason === 'origin' || reason === 'suppressed')) {
    await ctx.store.countDropped([{ siteId: site.id, reason, receivedAt, count }])
  }
}
