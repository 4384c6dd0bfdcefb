// The one deals pipeline, shared by POST /v1/deals and `closeloop deals import`: each item is
// validated, its person resolved to match keys, its stage mapped and its amount converted (the
// site's rate book); deals of erased people are refused; the rest are written through the store.
// A bad item never sinks its neighbours: it comes back as a coded rejection under its number.

import { byPosition, codedRejection, rejection, slices, type BatchItem, type BatchRejection } from './batch.js'
import { parseDeal, prepareDeal, type PreparedDeal } from './deals.js'
import { rateBookFor } from './rate-book.js'
import { clError } from '../errors.js'
import type { DealInput } from './schemas.js'
import type { DealWriteResult } from './types.js'
import type { Pii } from '../identity/pii.js'
import type { Site, Store } from '../store/types.js'

export interface DealBatchOptions {
  /** Keys each person's match keys and checks them against the erasure list. */
  pii: Pii
  /** Time of a deal that names none. */
  now: number
  /** Deals per store write (one transaction each); default: the whole batch in one. */
  chunk?: number
}

export interface DealBatchResult {
  /** Stored deals in input order, with the number of the item each came from and the people not known yet (as sent). */
  written: Array<{ at: number; result: DealWriteResult; pending: string[] }>
  /** Sorted by item number. */
  rejected: BatchRejection[]
}

async function refuseErased(store: Store, site: Site, pii: Pii, p: PreparedDeal): Promise<void> {
  for (const who of p.people) {
    if (who.email === null && who.externalId === null) continue
    if (await store.isSuppressed(site.id, pii.suppression(who))) throw clError('SUPPRESSED')
  }
}

export async function writeDealBatch(store: Store, site: Site, items: readonly BatchItem[], opts: DealBatchOptions): Promise<DealBatchResult> {
  const rejected: BatchRejection[] = []
  const parsed: Array<{ at: number; deal: DealInput }> = []
  for (const { at, raw } of items) {
    try { parsed.push({ at, deal: parseDeal(raw) }) } catch (err) { rejected.push(rejection(at, err)) }
  }
  const rates = await rateBookFor(store, site, parsed.map((p) => p.deal))
  const ok: Array<{ at: number; prepared: PreparedDeal }> = []
  for (const { at, deal } of parsed) {
    try {
      const prepared = prepareDeal(deal, site, rates, opts.now, opts.pii.matchHash)
      await refuseErased(store, site, opts.pii, prepared)
      ok.push({ at, prepared })
    } catch (err) {
      rejected.push(rejection(at, err))
    }
  }
  const written: DealBatchResult['written'] = []
  for (const slice of slices(ok, opts.chunk ?? Infinity)) {
    const results = await store.upsertDeals(site.id, slice.map((o) => o.prepared.write))
    results.forEach((result, k) => {
      // A leadId the site does not have: the store kept nothing.
      if (result.unknownLead) rejected.push(codedRejection(slice[k].at, 'LEAD_NOT_FOUND'))
      else if (result.accountConflict) rejected.push({ at: slice[k].at, error: clError('ACCOUNT_CONFLICT', `Lead ${result.accountConflict} is in another company's account; send its company with /v1/identify to move it`) })
      else written.push({ at: slice[k].at, result, pending: (result.pending ?? []).map((i) => slice[k].prepared.people[i].sent) })
    })
  }
  rejected.sort(byPosition)
  return { written, rejected }
}
