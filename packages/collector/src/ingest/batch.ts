// A batch of raw events through validation, suppression, durable storage and identity stitching.
// Invalid events are reported and recorded; valid ones are kept whatever their neighbours did.

import type { FastifyBaseLogger } from 'fastify'
import type { AppContext } from '../http/context.js'
import { ClError, ERRORS } from '../errors.js'
import { recordDrop } from './drops.js'
import { prepareEvent, type EventContext } from './events.js'
import { redactProps, redactUrl } from './redact.js'
import type { ProtectedPerson } from '../identity/pii.js'
import type { IngestEvent, IngestResult, RejectedEvent, Site } from '../store/types.js'

export interface Rejection {
  index: number
  code: string
}

export interface BatchResult {
  accepted: number
  duplicates: number
  rejected: Rejection[]
  /** Visitor of the batch's last valid event, for the `_cl_vid` cookie. */
  visitorId: string | null
}

/** A bounded excerpt of a rejected input with its personal data redacted, for debugging only. */
export function rejectedExcerpt(raw: unknown): string {
  let text: string
  try {
    const value = typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? { ...(raw as Record<string, unknown>), traits: 'traits' in raw ? '[removed]' : undefined }
      : raw
    text = typeof value === 'string' ? redactUrl(value.slice(0, 4000)) : JSON.stringify(redactProps(value, redactUrl)) ?? String(value)
  } catch {
    text = '[unserializable]'
  }
  return text.slice(0, 1000)
}

export async function ingestBatch(ctx: AppContext, log: FastifyBaseLogger, site: Site, raw: unknown[], ectx: EventContext): Promise<BatchResult> {
  const rejected: Rejection[] = []
  const rejectedRows: RejectedEvent[] = []
  const valid: Array<{ index: number; event: IngestEvent; person: ProtectedPerson | null }> = []
  // An erased visitor's or person's events are refused: the store checks these hashes
  // inside its write transaction, so an erasure that commits first always wins.
  const byVisitor = new Map<string, readonly string[]>()
  for (let i = 0; i < raw.length; i++) {
    const p = prepareEvent(raw[i], ectx, ctx.pii)
    if (p.ok) {
      const vid = p.event.visitorId
      let hashes = byVisitor.get(vid)
      if (!hashes) byVisitor.set(vid, (hashes = ctx.pii.suppression({ visitorId: vid })))
      p.event.suppression = p.person === null ? hashes : [...hashes, ...p.person.suppression]
      valid.push({ index: i, event: p.event, person: p.person })
    } else {
      rejected.push({ index: i, code: p.code })
      rejectedRows.push({ siteId: site.id, receivedAt: ectx.receivedAt, code: p.code, payload: rejectedExcerpt(raw[i]) })
    }
  }

  const none: IngestResult = { accepted: 0, duplicates: 0, suppressed: 0, outcome: [] }
  const [result] = await Promise.all([
    valid.length > 0 ? ctx.store.ingest(valid.map((v) => v.event)) : Promise.resolve(none),
    rejectedRows.length > 0 ? ctx.store.recordRejected(rejectedRows) : Promise.resolve(),
  ])
  // An erased person's data is dropped and reported, but not recorded: recording would keep it.
  const kept: typeof valid = []
  valid.forEach((v, k) => {
    if (result.outcome[k] === 'suppressed') rejected.push({ index: v.index, code: ERRORS.SUPPRESSED.code })
    else kept.push(v)
  })

  // Duplicates are linked again too: identify is idempotent, and a retried batch whose first
  // attempt stored the event but failed before linking must still link.
  for (const k of kept) {
    if (k.person === null || k.person.keys.length === 0) continue
    try {
      await ctx.store.identify({
        siteId: site.id,
        visitorId: k.event.visitorId,
        suppression: k.event.suppression,
        keys: k.person.keys,
        emailEnc: k.person.emailEnc,
        phoneEnc: k.person.phoneEnc,
        externalId: k.person.externalId,
        accountDomain: k.person.accountDomain,
        traits: k.event.traits ?? null,
        ts: k.event.ts,
        linkOnly: ectx.publishable === true,
      })
    } catch (err) {
      // Erased since its event was stored (the erasure removed that event too): nothing to link.
      if (!(err instanceof ClError && err.code === ERRORS.SUPPRESSED.code)) throw err
    }
  }

  const m = ctx.metrics
  m.eventsAccepted.inc({}, result.accepted)
  m.eventsDuplicate.inc({}, result.duplicates)
  let suppressed = 0
  for (const r of rejected) {
    if (r.code === ERRORS.SUPPRESSED.code) { m.eventsSuppressed.inc(); suppressed++ }
    else m.eventsRejected.inc({ code: r.code })
  }
  await recordDrop(ctx, log, site, 'invalid', rejected.length - suppressed, ectx.receivedAt)
  await recordDrop(ctx, log, site, 'suppressed', suppressed, ectx.receivedAt)
  if (kept.length > 0) m.ingestBatchSize.observe(kept.length)
  if (rejected.length > 0) log.debug({ rejected: rejected.length }, 'events rejected')
  rejected.sort((a, b) => a.index - b.index)
  return {
    accepted: result.accepted,
    duplicates: result.duplicates,
    rejected,
    visitorId: kept.length > 0 ? kept[kept.length - 1].event.visitorId : null,
  }
}
