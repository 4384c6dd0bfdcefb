// buildApp: the Fastify application without a listening socket (server.ts listens). Everything
// it needs comes in through options, so tests build one against a temporary store.

import cors from '@fastify/cors'
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import { DEFAULTS, type Config } from '../config.js'
import type { AppContext, RouteModule } from './context.js'
import type { InstallKeys } from '../identity/crypto.js'
import { clError, errorBody, ERRORS, toClError } from '../errors.js'
import { truncateIp } from './ip.js'
import { parseJson } from './json-body.js'
import { Metrics } from './metrics.js'
import { keyMatchHashes } from '../identity/match-keys.js'
import { Pii } from '../identity/pii.js'
import { RateLimiter } from './rate-limit.js'
import { ROUTES } from './routes/index.js'
import { SiteCache } from '../sites/cache.js'
import type { Store } from '../store/types.js'

export interface AppOptions {
  store: Store
  /** Encryption key and suppression salt (crypto.ts `loadInstallKeys`). */
  keys: InstallKeys
  config?: Partial<Config>
  /** Fastify/pino logger options; false (the default) for silence in tests. */
  logger?: FastifyServerOptions['logger']
  /** Close the store when the app closes (default true). */
  closeStore?: boolean
  /** Extra route modules (dashboard, reports, …), registered under the base path too. */
  routes?: RouteModule[]
}

interface RawRequestLike {
  method?: string
  url?: string
  ip?: string
  socket?: { remoteAddress?: string }
}

// Logs never hold a whole IP, a query string (export takes ?email=) or a CRM's secret path token.
const serializers = {
  req(req: RawRequestLike) {
    const url = (req.url ?? '').split('?')[0].replace(/(\/v1\/crm\/[^/]+\/[^/]+)\/[^/]+$/, '$1/…')
    return { method: req.method, url: url.slice(0, 200), remoteAddress: truncateIp(req.ip ?? req.socket?.remoteAddress) }
  },
}

function loggerOption(logger: AppOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false
  const base = typeof logger === 'object' ? logger : {}
  return { ...base, serializers: { ...serializers, ...('serializers' in base ? base.serializers : {}) }, redact: ['req.headers.authorization'] }
}


export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const config: Config = { ...DEFAULTS, ...options.config, rateLimit: { ...DEFAULTS.rateLimit, ...options.config?.rateLimit } }
  const app = Fastify({
    logger: loggerOption(options.logger),
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    // Our own 503 (coded) replaces Fastify's uncoded one while closing.
    return503OnClosing: false,
    // Two access-log lines per beacon would dominate a busy collector: only at debug/trace.
    logController: new LogController({ disableRequestLogging: !['debug', 'trace'].includes(config.logLevel) }),
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    // Router errors (bad URL encoding, overlong parameters) skip the error handler: code them here.
    frameworkErrors: (error, _request, genericReply) => {
      const cl = toClError(error)
      // The generic reply type is parameterised per route; here there is no route yet.
      const reply = genericReply as unknown as FastifyReply
      reply.code(cl.status).type('application/json; charset=utf-8').send(errorBody(cl))
    },
    // Unparseable HTTP never reaches Fastify's request cycle; answer it coded on the socket.
    clientErrorHandler: (error, socket) => {
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return
      const mapped = toClError(error)
      const cl = mapped.code === ERRORS.INTERNAL.code ? clError('BAD_REQUEST') : mapped
      const body = JSON.stringify(errorBody(cl))
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${cl.status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
      }
      socket.destroy()
    },
  })

  // A store written before match keys were keyed is upgraded before anything computes one.
  const rekeyed = await keyMatchHashes(options.store, options.keys)
  if (rekeyed > 0) app.log.info({ rekeyed }, 'stored match keys keyed with the install secret')

  const ctx: AppContext = {
    store: options.store,
    config,
    metrics: new Metrics(),
    pii: new Pii(options.keys),
    sites: new SiteCache(options.store),
    keyLimiter: new RateLimiter({ perSecond: config.rateLimit.keyPerSecond, burst: config.rateLimit.keyBurst }),
    ipLimiter: new RateLimiter({ perSecond: config.rateLimit.ipPerSecond, burst: config.rateLimit.ipBurst }),
    integrationKey: options.keys.integrationKey,
    crmInbox: { wake: () => undefined },
  }
  app.decorate('closeloop', ctx)

  // text/plain is what the tracker sends (no CORS preflight); both carry JSON.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJson(body as string))
    } catch (err) {
      done(err as Error, undefined)
    }
  })

  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  // The hooks of every request take a callback, not async: nothing in them waits, and an async
  // hook costs a promise and a microtask turn each.
  app.addHook('onRequest', (request, reply, done) => {
    if (closing) {
      reply.header('connection', 'close')
      done(clError('SHUTTING_DOWN'))
      return
    }
    const wait = ctx.ipLimiter.take(request.ip)
    done(wait > 0 ? clError('RATE_LIMITED', undefined, { retryAfter: wait }) : undefined)
  })
  // A request that arrived before closing but is answered after it (its write waited for the
  // WAL fsync) must not leave a keep-alive connection open: close() waits for every connection.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  app.addHook('onResponse', (request, reply, done) => {
    ctx.metrics.requestDuration.observe(reply.elapsedTime / 1000, {
      route: request.routeOptions.url ?? 'unmatched',
      status: `${Math.floor(reply.statusCode / 100)}xx`,
    })
    done()
  })

  app.setErrorHandler((err, request, reply) => {
    const cl = toClError(err)
    if (cl.status >= 500 && cl.code === ERRORS.INTERNAL.code) request.log.error({ err }, 'request failed')
    else request.log.debug({ code: cl.code }, cl.message)
    const retryAfter = (cl.details as { retryAfter?: unknown } | undefined)?.retryAfter
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
    reply.code(cl.status).type('application/json; charset=utf-8').send(errorBody(cl))
  })
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).type('application/json; charset=utf-8').send(errorBody(clError('NOT_FOUND')))
  })

  // CORS headers go to any origin some site allows (preflights carry no key); each route then
  // checks the origin against its own site and answers 403 when it is not listed.
  await app.register(cors, {
    origin: async (origin: string | undefined) => (origin === undefined ? false : ctx.sites.isKnownOrigin(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    // Segment-style browser clients send their write key as Basic auth, RudderStack's also
    // AnonymousId and SentAt, and analytics-next X-Retry-Count on a retry (routes/segment.ts).
    allowedHeaders: ['content-type', 'authorization', 'anonymousid', 'sentat', 'x-retry-count'],
    maxAge: 86400,
  })

  await app.register(async (scoped) => {
    for (const route of [...ROUTES, ...(options.routes ?? [])]) route(scoped, ctx)
  }, { prefix: config.basePath })

  if (options.closeStore !== false) {
    app.addHook('onClose', async () => {
      // Resolves after pending group commits are written: acknowledged events are on disk.
      await options.store.close()
    })
  }
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    closeloop: AppContext
  }
}
