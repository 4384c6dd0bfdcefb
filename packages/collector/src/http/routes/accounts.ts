// GET /v1/accounts/:id: a B2B account (company) with its leads, their journeys interleaved in time
// (each touch names its lead) and the deals naming any of them, with all their people. Secret key
// or dashboard session, like GET /v1/leads/:id.

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { clError } from '../../errors.js'
import { accountParamsSchema } from '../../ingest/schemas.js'
import type { AccountDeal, LeadJourney, StoredTouch } from '../../store/types.js'
import { parseOr } from '../validate.js'
import { presentLeadSummary } from './leads.js'

/** Leads whose journeys one response carries (the oldest); `leadCount` tells when there are more. */
export const ACCOUNT_MAX_LEADS = 500

export interface AccountBody {
  account: { id: string; domain: string | null; name: string | null; source: string; createdAt: number }
  leadCount: number
  leads: Array<ReturnType<typeof presentLeadSummary> & { createdAt: number }>
  touches: Array<StoredTouch & { leadId: string }>
  deals: AccountDeal[]
}

export const accountsRoute: RouteModule = (app, ctx) => {
  app.get('/v1/accounts/:id', async (request): Promise<AccountBody> => {
    const site = await authenticateSecret(request, ctx)
    const { id } = parseOr(accountParamsSchema, request.params)
    const view = await ctx.store.getAccount(site.id, id)
    if (!view) throw clError('ACCOUNT_NOT_FOUND')
    const journeys = (await Promise.all(view.leadIds.slice(0, ACCOUNT_MAX_LEADS).map((leadId) => ctx.store.getLead(site.id, leadId))))
      .filter((j): j is LeadJourney => j !== null)
    const touches = journeys.flatMap((j) => j.touches.map((t) => ({ ...t, leadId: j.lead.id })))
    touches.sort((a, b) => a.ts - b.ts || (a.leadId < b.leadId ? -1 : a.leadId > b.leadId ? 1 : 0))
    const { account } = view
    return {
      account: { id: account.id, domain: account.domain, name: account.name, source: account.source, createdAt: account.createdAt },
      leadCount: view.leadIds.length,
      leads: journeys.map((j) => ({ ...presentLeadSummary(j, ctx.pii), createdAt: j.lead.createdAt })),
      touches,
      deals: view.deals,
    }
  })
}
