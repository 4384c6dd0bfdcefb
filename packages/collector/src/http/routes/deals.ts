// POST /v1/deals (SPEC §4): one deal or { deals: [...] } from a CRM. Upsert by dealId, every stage
// change kept as history, stages mapped per site, amounts converted to the site currency. In a
// batch, valid deals are kept even when others are rejected (like /v1/collect).

import { authenticateSecret } from '../auth.js'
import type { AppContext, RouteModule } from '../context.js'
import { parseDeal, prepareDeal, type PreparedDeal } from '../../outcomes/deals.js'
import { rateBookFor } from '../../outcomes/rate-book.js'
import { clError, toClError } from '../../errors.js'
import { dealsBatchSchema, OUTCOME_LIMITS, type DealInput } from '../../outcomes/schemas.js'
import type { DealWriteResult } from '../../outcomes/types.js'
import type { Site } from '../../store/types.js'
import { parseOr } from '../validate.js'

async function checkSuppressed(ctx: AppContext, site: Site, p: PreparedDeal): Promise<void> {
  if (p.person.email === null && p.person.externalId === null) return
  if (await ctx.store.isSuppressed(site.id, ctx.pii.suppression(p.person))) throw clError('SUPPRESSED')
}

function present(r: DealWriteResult) {
  return { dealId: r.dealId, leadId: r.leadId, stage: r.stage, linked: r.leadId !== null, changed: r.changed }
}

export const dealsRoute: RouteModule = (app, ctx) => {
  app.post('/v1/deals', { bodyLimit: OUTCOME_LIMITS.body }, async (request) => {
    const site = await authenticateSecret(request, ctx)
    const body = request.body
    const now = Date.now()

    if (!(typeof body === 'object' && body !== null && 'deals' in body)) {
      const deal = parseDeal(body)
      const prepared = prepareDeal(deal, site, await rateBookFor(ctx.store, site, [deal]), now)
      await checkSuppressed(ctx, site, prepared)
      const [result] = await ctx.store.upsertDeals(site.id, [prepared.write])
      if (result.unknownLead) throw clError('LEAD_NOT_FOUND')
      return present(result)
    }

    const { deals } = parseOr(dealsBatchSchema, body)
    const rejected: Array<{ index: number; code: string; message: string }> = []
    const parsed: Array<{ index: number; deal: DealInput }> = []
    deals.forEach((raw, index) => {
      try { parsed.push({ index, deal: parseDeal(raw) }) } catch (err) {
        const e = toClError(err)
        rejected.push({ index, code: e.code, message: e.message })
      }
    })
    const rates = await rateBookFor(ctx.store, site, parsed.map((p) => p.deal))
    const ok: Array<{ index: number; prepared: PreparedDeal }> = []
    for (const { index, deal } of parsed) {
      try {
        const prepared = prepareDeal(deal, site, rates, now)
        await checkSuppressed(ctx, site, prepared)
        ok.push({ index, prepared })
      } catch (err) {
        const e = toClError(err)
        rejected.push({ index, code: e.code, message: e.message })
      }
    }
    const results = ok.length > 0 ? await ctx.store.upsertDeals(site.id, ok.map((o) => o.prepared.write)) : []
    const accepted: ReturnType<typeof present>[] = []
    results.forEach((r, k) => {
      if (r.unknownLead) rejected.push({ index: ok[k].index, code: 'CL_ERR_LEAD_NOT_FOUND', message: 'Lead not found' })
      else accepted.push(present(r))
    })
    rejected.sort((a, b) => a.index - b.index)
    return { accepted: accepted.length, deals: accepted, rejected }
  })
}
