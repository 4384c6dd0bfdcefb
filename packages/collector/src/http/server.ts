// The listening process: open the store, build the app, listen, and shut down gracefully:
// stop accepting, finish in-flight requests, flush pending writes (store.close), exit.

import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from './app.js'
import { limitHeapGrowth } from './heap.js'
import type { Config } from '../config.js'
import { loadInstallKeys } from '../identity/crypto.js'
import { CrmWorker, type CrmWorkerOptions } from '../integrations/crm/inbox.js'
import { RetentionJob } from '../sites/retention.js'
import { ConversionWorker, type DeliveryOptions } from '../integrations/destinations/delivery.js'
import type { DestinationRegistry } from '../integrations/destinations/plan.js'
import type { FetchLike } from '../integrations/types.js'
import { openStore } from '../store/index.js'

export interface RunningServer {
  app: FastifyInstance
  url: string
  close(): Promise<void>
}

/** Test seams of the CRM inbox worker (poll interval, backoff); the sync interval comes from config. */
export type CrmWorkerTuning = Omit<CrmWorkerOptions, 'syncMinutes'>

/** Test seams of the conversion delivery worker: its timing, and the adapters (a test adds a double of a platform). */
export type DeliveryTuning = DeliveryOptions & { registry?: DestinationRegistry; fetch?: FetchLike }

export async function startServer(config: Config, extra: Pick<AppOptions, 'routes' | 'logger'> & { crm?: CrmWorkerTuning; retention?: { firstDelayMs?: number; intervalMs?: number }; destinations?: DeliveryTuning } = {}): Promise<RunningServer> {
  limitHeapGrowth()
  const keys = loadInstallKeys({ dataDir: config.dataDir })
  const registry = extra.destinations?.registry
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl ?? undefined, destinations: registry })
  const app = await buildApp({ store, keys, config, logger: extra.logger ?? { level: config.logLevel }, routes: extra.routes })
  // The CRM worker (webhook inbox, write-back outbox, pulls): started with the server, stopped before the store closes.
  const ctx = app.closeloop
  const worker = new CrmWorker({
    store, pii: ctx.pii, integrationKey: keys.integrationKey,
    env: { fetch: globalThis.fetch as FetchLike, now: Date.now },
    metrics: {
      deal: (kind) => ctx.metrics.crmDeals.inc({ kind }),
      error: (kind, retried) => ctx.metrics.crmErrors.inc({ kind, retried: String(retried) }),
      writeBack: (kind, object, outcome) => ctx.metrics.crmWriteBacks.inc({ kind, object, outcome }),
    },
    log: (fields, message) => app.log.warn(fields, message),
  }, { syncMinutes: config.crmSyncMinutes, ...extra.crm })
  ctx.crmInbox.wake = () => worker.wake()
  const retention = new RetentionJob(store, (fields, message) => app.log.info(fields, message), extra.retention)
  // The conversion delivery worker, likewise.
  const delivery = new ConversionWorker({
    store, pii: ctx.pii, integrationKey: keys.integrationKey, registry,
    env: { fetch: extra.destinations?.fetch ?? (globalThis.fetch as FetchLike), now: Date.now },
    metrics: { delivered: (kind, outcome, rows) => ctx.metrics.conversionDeliveries.inc({ kind, outcome }, rows) },
    log: (fields, message) => app.log.warn(fields, message),
  }, { claimMs: config.deliveryClaimSeconds * 1000, ...extra.destinations })
  app.addHook('preClose', async () => { await Promise.all([worker.stop(), retention.stop(), delivery.stop()]) })
  worker.start()
  retention.start()
  delivery.start()
  // Before listening: the first dashboard visit should not wait for a scan of every touch.
  const t = performance.now()
  const touches = await store.warmReports()
  app.log.info({ touches, ms: Math.round(performance.now() - t) }, 'report cache warmed')
  let address: string
  try {
    address = await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    // Port in use and the like: release the store so the process can exit with the error.
    await app.close().catch(() => undefined)
    throw err
  }
  const url = address.replace(/\/$/, '') + config.basePath
  return { app, url, close: () => app.close() }
}

/** Close on SIGTERM/SIGINT; a second signal exits at once. */
export function closeOnSignals(close: () => Promise<void>, log: (msg: string) => void = (m) => process.stderr.write(m + '\n')): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1)
    stopping = true
    log(`${signal}: shutting down (flushing pending writes)…`)
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
