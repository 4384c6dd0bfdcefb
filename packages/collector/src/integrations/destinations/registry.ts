// Every conversion destination of this build, by kind. A new platform is one adapter file plus
// its line in DESTINATION_ADAPTERS; `destinationAdapter('x')` of a kind without one is
// CL_ERR_UNKNOWN_DESTINATION_KIND.

import { AdapterRegistry } from '../adapter-registry.js'
import { DESTINATION_KINDS, type DestinationAdapter, type DestinationKind } from './adapter.js'
import { googleAdsAdapter } from './google-ads.js'
import { googleAdsFeed } from './google-ads-feed.js'
import { linkedinAdapter } from './linkedin.js'
import { metaAdapter } from './meta.js'
import { microsoftAdsFeed } from './microsoft-ads-feed.js'

/** The adapters, one line each. */
const DESTINATION_ADAPTERS: readonly DestinationAdapter[] = [
  googleAdsAdapter as DestinationAdapter,
  googleAdsFeed as DestinationAdapter,
  microsoftAdsFeed as DestinationAdapter,
  metaAdapter as DestinationAdapter,
  linkedinAdapter as DestinationAdapter,
]

export const createDestinationRegistry = (adapters: readonly DestinationAdapter[]): AdapterRegistry<DestinationKind, DestinationAdapter> =>
  new AdapterRegistry({ kinds: DESTINATION_KINDS, error: 'UNKNOWN_DESTINATION_KIND', noun: 'destination' }, adapters)
export const destinationRegistry = createDestinationRegistry(DESTINATION_ADAPTERS)
export const destinationAdapter = (kind: string): DestinationAdapter => destinationRegistry.get(kind)
