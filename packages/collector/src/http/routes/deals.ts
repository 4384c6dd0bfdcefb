// POST /v1/deals: one deal or { deals: [...] } from a CRM. Upsert by dealId, every stage change
// kept as history, stages mapped per site, amounts converted to the site currency. In a batch,
// valid deals are kept even when others are rejected (like /v1/collect).

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { describeRejection } from '../../outcomes/batch.js'
import { writeDealBatch } from '../../outcomes/deal-batch.js'
import { dealsBatchSchema, OUTCOME_LIMITS } from '../../outcomes/schemas.js'
import type { DealWriteResult } from '../../outcomes/types.js'
import { parseOr } from '../validate.js'

function present(r: DealWriteResult, pending: string[]) {
  return { dealId: r.dealId, leadId: r.leadId, stage: r.stage, linked: r.leadId !== null, changed: r.changed, pending }
}

export const dealsRoute: RouteModule = (app, ctx) => {
  app.post('/v1/deals', { bodyLimit: OUTCOME_LIMITS.body }, async (request) => {
    const site = await authenticateSecret(request, ctx)
    const body = request.body
    const opts = { pii: ctx.pii, now: Date.now() }

    if (!(typeof body === 'object' && body !== null && 'deals' in body)) {
      // A single deal: its failure is the request's.
      const { written, rejected } = await writeDealBatch(ctx.store, site, [{ at: 0, raw: body }], opts)
      if (rejected.length > 0) throw rejected[0].cause ?? rejected[0].error
      return present(written[0].result, written[0].pending)
    }

    const { deals } = parseOr(dealsBatchSchema, body)
    const { written, rejected } = await writeDealBatch(ctx.store, site, deals.map((raw, at) => ({ at, raw })), opts)
    const accepted = written.map((w) => present(w.result, w.pending))
    // pending: stored, but held until their person is identified (no lead to credit yet).
    const pending = accepted.filter((d) => !d.linked).length
    return { accepted: accepted.length, pending, deals: accepted, rejected: rejected.map((r) => ({ index: r.at, ...describeRejection(r) })) }
  })
}
