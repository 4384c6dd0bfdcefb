// GET /metrics: Prometheus text exposition, plus the store's group-commit counters.

import type { RouteModule } from '../context.js'
import { COMMIT_SIZE_BOUNDS } from '../../store/group-commit.js'
import type { StoreStats } from '../../store/types.js'

function cacheMetrics(c: NonNullable<StoreStats['reportCache']>): string[] {
  const metric = (name: string, type: 'counter' | 'gauge', help: string, v: number) => [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${v}`]
  return [
    ...metric('closeloop_report_cache_touches', 'gauge', 'Touches held in memory for reports, over all sites', c.touches),
    ...metric('closeloop_report_cache_sites', 'gauge', 'Sites held in the report cache', c.sites),
    ...metric('closeloop_report_cache_touch_scans_total', 'counter', 'Full scans of a site\'s touches (start-up, or after another process wrote)', c.touchScans),
    ...metric('closeloop_report_cache_outcome_loads_total', 'counter', 'Loads of all of a site\'s leads, links and deals', c.outcomeLoads),
    ...metric('closeloop_report_cache_refreshed_total', 'counter', 'Leads and deals re-read one by one after writes', c.refreshed),
    ...metric('closeloop_report_cache_appended_total', 'counter', 'Touches appended by committed ingests', c.appended),
    ...metric('closeloop_report_cache_tables_released_total', 'counter', 'Report tables given back for the next table to be built in their memory', c.tablesReleased),
  ]
}

/** The process's memory, under the names Prometheus' own Node.js client uses. */
function processMetrics(): string[] {
  const m = process.memoryUsage()
  const gauge = (name: string, help: string, v: number) => [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${v}`]
  return [
    ...gauge('process_resident_memory_bytes', 'Resident memory size in bytes (budget: 300 MB at 1M touchpoints)', m.rss),
    ...gauge('nodejs_heap_size_used_bytes', 'V8 heap used in bytes', m.heapUsed),
    ...gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved in bytes', m.heapTotal),
    ...gauge('nodejs_external_memory_bytes', 'Memory of objects outside the V8 heap (typed arrays, buffers) in bytes', m.external),
  ]
}

export const metricsRoute: RouteModule = (app, ctx) => {
  app.get('/metrics', async (_request, reply) => {
    const s = ctx.store.stats()
    const inbox = await ctx.store.pendingCrmInbox()
    const outbox = await ctx.store.crmOutboxCounts()
    // Outbox rows by kind and status, from the store: the same figures on every collector sharing it.
    const conversions = new Map<string, number>()
    for (const c of await ctx.store.conversionCounts()) {
      const key = `kind="${c.kind}",status="${c.status}"`
      conversions.set(key, (conversions.get(key) ?? 0) + c.rows)
    }
    const store = [
      '# HELP closeloop_conversions Conversion outbox rows by destination kind and status (pending, sent, failed; unmatched: not sendable)',
      '# TYPE closeloop_conversions gauge',
      ...(conversions.size === 0 ? ['closeloop_conversions 0'] : [...conversions].map(([labels, n]) => `closeloop_conversions{${labels}} ${n}`)),
      '# HELP closeloop_crm_inbox_pending CRM webhook changes stored and not yet processed',
      '# TYPE closeloop_crm_inbox_pending gauge',
      `closeloop_crm_inbox_pending ${inbox}`,
      '# HELP closeloop_crm_writebacks_pending CRM write-backs queued and not yet sent',
      '# TYPE closeloop_crm_writebacks_pending gauge',
      `closeloop_crm_writebacks_pending ${outbox.reduce((n, c) => n + c.pending, 0)}`,
      '# HELP closeloop_crm_writebacks_failed CRM write-backs given up (kept until pruned or written again)',
      '# TYPE closeloop_crm_writebacks_failed gauge',
      `closeloop_crm_writebacks_failed ${outbox.reduce((n, c) => n + c.failed, 0)}`,
      '# HELP closeloop_store_commits_total Group-commit transactions committed',
      '# TYPE closeloop_store_commits_total counter',
      `closeloop_store_commits_total ${s.flushes}`,
      '# HELP closeloop_store_write_jobs_total Write requests committed (many share one commit)',
      '# TYPE closeloop_store_write_jobs_total counter',
      `closeloop_store_write_jobs_total ${s.jobs}`,
      '# HELP closeloop_store_commit_jobs_max Most write requests one commit carried',
      '# TYPE closeloop_store_commit_jobs_max gauge',
      `closeloop_store_commit_jobs_max ${s.maxBatch}`,
      '# HELP closeloop_store_commit_jobs Write requests per group-commit transaction',
      '# TYPE closeloop_store_commit_jobs histogram',
      ...[...COMMIT_SIZE_BOUNDS, '+Inf'].map((le, i) => `closeloop_store_commit_jobs_bucket{le="${le}"} ${s.commitSizes.slice(0, i + 1).reduce((a, b) => a + b, 0)}`),
      `closeloop_store_commit_jobs_sum ${s.jobs}`,
      `closeloop_store_commit_jobs_count ${s.flushes}`,
      ...(s.batchRetries === undefined ? [] : [
        '# HELP closeloop_store_batch_retries_total Write transactions run again whole after a deadlock or serialization failure',
        '# TYPE closeloop_store_batch_retries_total counter',
        `closeloop_store_batch_retries_total ${s.batchRetries}`,
      ]),
      ...(s.fsyncs === undefined ? [] : [
        '# HELP closeloop_store_wal_syncs_total WAL syncs after commits (each settles the transactions committed before it began)',
        '# TYPE closeloop_store_wal_syncs_total counter',
        `closeloop_store_wal_syncs_total ${s.fsyncs}`,
      ]),
      ...(s.reportCache === undefined ? [] : cacheMetrics(s.reportCache)),
      ...processMetrics(),
    ].join('\n')
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
    return ctx.metrics.render() + store + '\n'
  })
}
