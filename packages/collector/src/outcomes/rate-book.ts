// The site's rates, loaded only when some amount is in a foreign currency (most requests have none).

import { RateBook } from './currency.js'
import { needsRates } from './deals.js'
import type { Site, Store } from '../store/types.js'

export async function rateBookFor(store: Store, site: Site, items: ReadonlyArray<{ currency?: string | null }>): Promise<RateBook> {
  return new RateBook(site.currency, needsRates(items, site) ? await store.listRates(site.id) : [])
}
