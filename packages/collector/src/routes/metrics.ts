// GET /metrics: Prometheus text exposition, plus the store's group-commit counters.

import type { RouteModule } from '../context.js'
import { COMMIT_SIZE_BOUNDS } from '../store/group-commit.js'

export const metricsRoute: RouteModule = (app, ctx) => {
  app.get('/metrics', async (_request, reply) => {
    const s = ctx.store.stats()
    const store = [
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
    ].join('\n')
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
    return ctx.metrics.render() + store + '\n'
  })
}
