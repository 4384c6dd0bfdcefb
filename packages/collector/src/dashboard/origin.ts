// State-changing dashboard requests must come from the dashboard's own origin. SameSite=Strict
// already keeps the cookie off cross-site requests; this also stops cross-origin sign-in
// (login CSRF) and same-site-but-cross-origin pages. A missing Origin is refused: browsers
// always send it on POST/DELETE fetches, and only browsers use these routes.

import type { FastifyRequest } from 'fastify'
import { clError } from '../errors.js'

export function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin
  const expected = `${request.protocol}://${request.host}`
  if (origin !== expected) throw clError('CROSS_ORIGIN')
}
