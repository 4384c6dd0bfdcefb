// What every route needs, built once by buildApp and passed to each route module.

import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { Metrics } from './metrics.js'
import type { Pii } from '../identity/pii.js'
import type { RateLimiter } from './rate-limit.js'
import type { SiteCache } from '../sites/cache.js'
import type { Site, Store } from '../store/types.js'

export interface AppContext {
  store: Store
  config: Config
  metrics: Metrics
  pii: Pii
  sites: SiteCache
  keyLimiter: RateLimiter
  ipLimiter: RateLimiter
  /** Integration secrets key (CRM connections' tokens and webhook secrets). */
  integrationKey: Buffer
  /** Told when CRM webhook changes or write-backs were stored; the CRM worker of `serve` listens (server.ts). */
  crmInbox: { wake(): void }
  /** Set by the dashboard: the site of a dashboard session cookie (GET API requests only). */
  sessionSite?: (request: FastifyRequest) => Promise<Site | null>
}

/** A route module registers its routes on the (base-path prefixed) instance. */
export type RouteModule = (app: FastifyInstance, ctx: AppContext) => void
