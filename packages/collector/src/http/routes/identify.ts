// POST /v1/identify: find or create a lead by email, phone or external ID, and link the visitor
// to it when one is given (none when the tracker was blocked or not allowed to run). With a CRM
// connection writing back, the lead's first/last touch is queued for its CRM contact.

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { clError } from '../../errors.js'
import { summarizeJourney } from '../../identity/journey.js'
import { queueLeadWriteBack } from '../../integrations/crm/write-back.js'
import { identifySchema, LIMITS } from '../../ingest/schemas.js'
import { parseOr } from '../validate.js'

export const identifyRoute: RouteModule = (app, ctx) => {
  app.post('/v1/identify', { bodyLimit: LIMITS.identifyBody }, async (request) => {
    const site = await authenticateSecret(request, ctx)
    const body = parseOr(identifySchema, request.body)
    const traits: Record<string, unknown> = {}
    // Identifiers sent as traits are protected like top-level ones and never stored raw.
    for (const [k, v] of Object.entries(body.traits ?? {})) if (k !== 'email' && k !== 'phone') traits[k] = v
    const email = body.email ?? (typeof body.traits?.email === 'string' ? body.traits.email : null)
    const phone = body.phone ?? (typeof body.traits?.phone === 'string' ? body.traits.phone : null)
    const externalId = body.externalId ?? null
    if (!email && !phone && !externalId) throw clError('IDENTIFY_NO_KEY')
    const person = ctx.pii.protect({ email: email || null, phone: phone || null, externalId }, body.visitorId, site.settings.phoneRegion)
    // An erased person is refused (CL_ERR_SUPPRESSED), checked in the identify's own transaction.
    const outcome = await ctx.store.identify({
      siteId: site.id,
      visitorId: body.visitorId ?? null,
      suppression: person.suppression,
      keys: person.keys,
      emailEnc: person.emailEnc,
      phoneEnc: person.phoneEnc,
      externalId: person.externalId,
      company: body.company || null,
      accountDomain: person.accountDomain,
      traits,
      ts: body.ts ?? Date.now(),
      journey: true,
    })
    if (outcome.conflict) request.log.warn({ conflict: outcome.conflict }, 'identity conflict: email match kept')
    ctx.metrics.identifies.inc({ created: String(outcome.created) })
    const journey = outcome.journey ?? (await ctx.store.getLead(site.id, outcome.leadId))
    // Queued after the identify's transaction, before the answer: a crash in between leaves the
    // call unanswered, the form backend sends it again (identify is idempotent) and it is queued then.
    if (journey !== null && (await queueLeadWriteBack(ctx.store, site.id, journey, Date.now())) > 0) ctx.crmInbox.wake()
    const summary = summarizeJourney(journey)
    return { leadId: outcome.leadId, created: outcome.created, visitorIds: outcome.visitorIds, ...summary }
  })
}
