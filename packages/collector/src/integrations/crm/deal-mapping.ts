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
  /** Who the deal is with: e-mails and visitor IDs of its contacts, without repeats. */
  emails: string[]
  visitorIds: string[]
}

export function mapCrmDeal(deal: CrmDeal, stageMapping?: Record<string, Stage> | null): CrmDealChange {
  const { closed, label, id } = deal.stage
  const stage = closed ?? mapStage(label, stageMapping) ?? mapStage(id, stageMapping)
  const present = (values: Array<string | null>): string[] =>
    [...new Set(values.flatMap((v) => (v === null || v.trim() === '' ? [] : [v.trim()])))]
  return {
    dealId: deal.id,
    stage,
    crmStage: label.trim() !== '' ? label.trim() : id,
    amount: deal.amount,
    currency: deal.currency,
    ts: closed !== null && deal.closeDate !== null ? deal.closeDate : deal.modifiedAt,
    emails: present(deal.contacts.map((c) => c.email)),
    visitorIds: present(deal.contacts.map((c) => c.visitorId)),
  }
}
