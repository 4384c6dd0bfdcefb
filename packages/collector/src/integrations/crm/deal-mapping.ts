// A CRM's deal (CrmDeal, from any connector) → the deal change Closeloop stores, by one rule for
// every CRM: the CRM's own closed-won/lost flag decides first, else the site's stage mapping (and
// the built-in aliases) of the stage's label, then of its ID.

import { mapStage } from '../../outcomes/stages.js'
import type { Stage } from '../../store/types.js'
import type { CrmDeal } from './adapter.js'

export interface CrmDealChange {
  dealId: string
  /** null when neither the flag nor any mapping knows the stage (rejected as CL_ERR_UNKNOWN_STAGE). */
  stage: Stage | null
  /** The CRM's stage name, kept in the deal's history. */
  crmStage: string
  amount: number | null
  currency: string | null
  /**
   * When the stage was reached: the close date of a closed deal (an open deal's close date is only
   * expected), else the CRM's last change.
   */
  ts: number
  /** Who the deal is with, one entry per contact that has either, without repeats. */
  people: Array<{ visitorId: string | null; email: string | null }>
}

export function mapCrmDeal(deal: CrmDeal, stageMapping?: Record<string, Stage> | null): CrmDealChange {
  const { closed, label, id } = deal.stage
  const stage = closed ?? mapStage(label, stageMapping) ?? mapStage(id, stageMapping)
  const clean = (v: string | null): string | null => (v === null || v.trim() === '' ? null : v.trim())
  // A contact listed twice (same e-mail; or no e-mail and the same visitor) counts once.
  const seen = new Set<string>()
  const people: CrmDealChange['people'] = []
  for (const c of deal.contacts) {
    const person = { visitorId: clean(c.visitorId), email: clean(c.email) }
    const key = person.email !== null ? `e:${person.email.toLowerCase()}` : person.visitorId !== null ? `v:${person.visitorId}` : null
    if (key === null || seen.has(key)) continue
    seen.add(key)
    people.push(person)
  }
  return {
    dealId: deal.id,
    stage,
    crmStage: label.trim() !== '' ? label.trim() : id,
    amount: deal.amount,
    currency: deal.currency,
    ts: closed !== null && deal.closeDate !== null ? deal.closeDate : deal.modifiedAt,
    people,
  }
}
