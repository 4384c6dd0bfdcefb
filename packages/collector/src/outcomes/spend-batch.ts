// The one spend pipeline, shared by POST /v1/spend and `closeloop spend import`: each row is
// validated and converted to the site currency (the site's rate book), the good rows are upserted
// through the store, and every bad row comes back as a coded rejection under its number.

import { byPosition, rejection, slices, type BatchItem, type BatchRejection } from './batch.js'
import { rateBookFor } from './rate-book.js'
import type { SpendRowInput } from './schemas.js'
import { parseSpendRow, prepareSpendRow } from './spend.js'
import type { SpendWrite } from './types.js'
import type { Site, Store } from '../store/types.js'

export interface SpendBatchOptions {
  /** Rows per store write (one transaction each); default: the whole batch in one. */
  chunk?: number
}

export interface SpendBatchResult {
  accepted: number
  inserted: number
  updated: number
  /** Sorted by item number. */
  rejected: BatchRejection[]
}

export async function writeSpendBatch(store: Store, site: Site, items: readonly BatchItem[], opts: SpendBatchOptions = {}): Promise<SpendBatchResult> {
  const rejected: BatchRejection[] = []
  const parsed: Array<{ at: number; row: SpendRowInput }> = []
  for (const { at, raw } of items) {
    try { parsed.push({ at, row: parseSpendRow(raw) }) } catch (err) { rejected.push(rejection(at, err)) }
  }
  const rates = await rateBookFor(store, site, parsed.map((p) => p.row))
  const writes: SpendWrite[] = []
  for (const { at, row } of parsed) {
    try { writes.push(prepareSpendRow(row, rates)) } catch (err) { rejected.push(rejection(at, err)) }
  }
  let inserted = 0
  let updated = 0
  for (const slice of slices(writes, opts.chunk ?? Infinity)) {
    const r = await store.upsertSpend(site.id, slice)
    inserted += r.inserted
    updated += r.updated
  }
  rejected.sort(byPosition)
  return { accepted: writes.length, inserted, updated, rejected }
}
