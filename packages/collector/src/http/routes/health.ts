// GET /healthz: liveness for load balancers (no key, no store round trip).

import type { RouteModule } from '../context.js'

export const healthRoute: RouteModule = (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }))
}
