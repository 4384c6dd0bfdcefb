// The dashboard: the page and its bundled assets under /dashboard/, and the sign-in
// session. `createDashboard` also returns `siteFromSession`, which the API's auth uses so GET
// report and lead endpoints accept the session cookie as well as `Authorization: Bearer sk_…`
// — one set of report routes, no proxy and no copy of the secret key on the server.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RouteModule } from '../http/context.js'
import { z } from 'zod'
import { clError } from '../errors.js'
import { secretKeyId, verifySecretKey } from '../sites/keys.js'
import { RateLimiter } from '../http/rate-limit.js'
import type { Site, Store } from '../store/types.js'
import { findAssetsDir, loadAssets } from './assets.js'
import { readCookie, SESSION_COOKIE, sessionCookie } from './cookie.js'
import { assertSameOrigin } from './origin.js'
import { PAGE, SECURITY_HEADERS } from './page.js'
import { SessionStore, type SessionOptions } from './sessions.js'

/** Wrong keys one address may try in a minute (refilled evenly: one every 6 s). */
const SIGN_IN_FAILURES = 10
const SIGN_IN_REFILL_PER_SECOND = SIGN_IN_FAILURES / 60

export interface DashboardOptions {
  store: Store
  /** The collector's --base-path ('' or e.g. '/_cl'); scopes the session cookie. */
  basePath?: string
  /** Directory of the built client; default: found next to this module or in dist/. */
  assetsDir?: string
  sessions?: SessionOptions
}

export interface Dashboard {
  /** Register with the same prefix as the API routes (the base path). */
  plugin: (app: FastifyInstance) => Promise<void>
  /** The site of a valid dashboard session cookie on this request, else null. */
  siteFromSession: (request: FastifyRequest) => Promise<Site | null>
  sessions: SessionStore
}

const SignIn = z.object({ key: z.string().min(1).max(200) })

/** What the session routes answer: the signed-in site as the page shows it. */
export interface SessionInfo {
  site: { name: string; currency: string }
}

function siteInfo(site: Site): SessionInfo {
  return { site: { name: site.name, currency: site.currency } }
}

export function createDashboard(opts: DashboardOptions): Dashboard {
  const { store } = opts
  const sessions = new SessionStore(opts.sessions)
  const failedSignIns = new RateLimiter({ perSecond: SIGN_IN_REFILL_PER_SECOND, burst: SIGN_IN_FAILURES })
  const cookiePath = `${opts.basePath ?? ''}/`
  const assets = loadAssets(opts.assetsDir ?? findAssetsDir())

  const sessionId = (request: FastifyRequest) => readCookie(request.headers.cookie, SESSION_COOKIE)

  const siteFromSession = async (request: FastifyRequest): Promise<Site | null> => {
    // CORS on the API reflects site origins with credentials, and SameSite=Strict still sends the
    // cookie from a same-site origin (a collector on t.example.com, a page on example.com). So the
    // cookie counts only on same-origin requests: no foreign Origin, no cross-site fetch metadata.
    const origin = request.headers.origin
    if (origin !== undefined && origin !== `${request.protocol}://${request.host}`) return null
    const site = request.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return null
    const session = sessions.get(sessionId(request))
    return session ? store.getSite(session.siteId) : null
  }

  const setCookie = (request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number) =>
    reply.header('set-cookie', sessionCookie(value, { path: cookiePath, secure: request.protocol === 'https', maxAge }))

  const plugin = async (app: FastifyInstance) => {
    app.addHook('onSend', async (_request, reply) => {
      reply.headers(SECURITY_HEADERS)
    })

    app.get('/dashboard', async (request, reply) => {
      // The client resolves assets and the API relative to `<base>/dashboard/`. A relative Location:
      // the request target may be absolute-form (`GET http://evil.example/dashboard`), whose host
      // must never reach a redirect.
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''
      return reply.redirect(`dashboard/${query}`, 301)
    })

    app.get('/dashboard/', async (_request, reply) => {
      if (!assets.has('main.js')) throw clError('DASHBOARD_NOT_BUILT')
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE)
    })

    app.get<{ Params: { file: string } }>('/dashboard/assets/:file', async (request, reply) => {
      const asset = assets.get(request.params.file)
      if (!asset) throw clError('NOT_FOUND')
      reply.type(asset.type).header('etag', asset.etag)
        .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send()
      return reply.send(asset.body)
    })

    app.get('/dashboard/session', async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const site = await siteFromSession(request)
      if (!site) throw clError('NO_SESSION')
      return siteInfo(site)
    })

    app.post('/dashboard/session', async (request, reply) => {
      assertSameOrigin(request)
      reply.header('cache-control', 'no-store')
      const parsed = SignIn.safeParse(request.body)
      if (!parsed.success) throw clError('VALIDATION', 'Expected { "key": "sk_…" }')
      // Guessing keys: after SIGN_IN_FAILURES wrong keys from one address, every sign-in from it
      // waits (429 with Retry-After), a right key too, until the bucket refills.
      const wait = failedSignIns.waitFor(request.ip)
      if (wait > 0) throw clError('RATE_LIMITED', 'Too many wrong keys from this address; try again later', { retryAfter: wait })
      const keyId = secretKeyId(parsed.data.key)
      const found = keyId ? await store.getSiteBySecretKeyId(keyId) : null
      if (!found || !verifySecretKey(parsed.data.key, found.secretKeyHash)) {
        failedSignIns.take(request.ip)
        throw clError('BAD_SECRET_KEY')
      }
      // A fresh ID on every sign-in, and the old one dropped: no session fixation.
      sessions.delete(sessionId(request))
      setCookie(request, reply, sessions.create(found.site.id), sessions.ttlSeconds)
      return siteInfo(found.site)
    })

    app.delete('/dashboard/session', async (request, reply) => {
      assertSameOrigin(request)
      sessions.delete(sessionId(request))
      setCookie(request, reply, '', 0)
      return reply.code(204).send()
    })
  }

  return { plugin, siteFromSession, sessions }
}

/**
 * The dashboard as a route module of buildApp: registers the pages and session routes, and lets
 * the API's secret-key auth accept a dashboard session on GET requests (ctx.sessionSite).
 */
export const dashboardRoute: RouteModule = (app, ctx) => {
  const dashboard = createDashboard({ store: ctx.store, basePath: ctx.config.basePath })
  ctx.sessionSite = dashboard.siteFromSession
  void app.register(dashboard.plugin)
}
