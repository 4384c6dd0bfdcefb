// A listening collector stand-in for the dashboard's browser tests: the real dashboard plugin
// (page, assets, sessions, Origin checks) in a real Fastify server, with report and lead routes
// that answer in the SPEC §6 shapes. Figures depend on the query (model, from, to) so the tests
// can see a view follow its filters. Tracked text is a set of classic XSS payloads.
// TODO(lead): switch to buildApp + SqliteStore seeded over HTTP once those land.

import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { createDashboard } from '../../src/dashboard/plugin.js'
import { ClError, clError } from '../../src/errors.js'
import { generateSecretKey, secretKeyId, verifySecretKey } from '../../src/keys.js'
import type { Site, Store } from '../../src/store/types.js'

export const XSS = [
  '<img src=x onerror="window.__xss=1">',
  '"><script>window.__xss=1</script>',
  "javascript:window.__xss=1",
  '<svg onload="window.__xss=1"></svg>',
  "'-window.__xss=1-'",
  '=HYPERLINK("http://evil","x")',
]

export const MODELS = ['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based', 'w_shaped', 'full_path', 'markov', 'shapley']
const CHANNELS = ['Paid Search', 'Organic Search', XSS[0], 'Paid Social', XSS[3]]

export interface FixtureServer {
  url: string
  key: string
  app: FastifyInstance
  close: () => Promise<void>
}

function figures(seed: number) {
  const conversions = Math.round(seed * 7) / 4
  const revenue = Math.round(seed * 1234.5 * 100) / 100
  const spend = Math.round(seed * 321 * 100) / 100
  const leads = Math.round(seed * 20)
  return {
    touches: Math.round(seed * 97), leads, conversions, revenue, spend,
    roas: spend ? revenue / spend : null, cac: conversions ? spend / conversions : null,
    costPerLead: leads ? spend / leads : null, avgDealSize: conversions ? revenue / conversions : null,
    conversionRate: leads ? conversions / leads : null,
  }
}

interface Q { model?: string; by?: string; from?: string; to?: string; conversion?: string; channel?: string; source_medium?: string }

/** Deterministic in every query field, so a changed filter changes every figure. */
export function fixtureReport(q: Q) {
  const m = MODELS.indexOf(q.model ?? 'linear') + 1
  const days = q.from && q.to ? (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 + 1 : 90
  const conv = q.conversion === 'opportunity' ? 1.7 : 1
  const keys = q.by === 'channel' ? CHANNELS
    : q.by === 'source_medium' ? ['google / cpc', `${XSS[1]} / cpc`, 'bing / cpc']
    : [`spring-${XSS[2]}`, XSS[4], 'brand']
  const depth = q.source_medium ? 3 : q.channel ? 2 : 1
  const rows = keys.map((key, i) => ({ key, ...figures(((keys.length - i) * m * days * conv) / (100 * depth)) }))
  const sum = (f: 'touches' | 'leads' | 'conversions' | 'revenue' | 'spend') => rows.reduce((s, r) => s + r[f], 0)
  const t = { touches: sum('touches'), leads: sum('leads'), conversions: sum('conversions'), revenue: sum('revenue'), spend: sum('spend') }
  return {
    model: q.model ?? 'linear', by: q.by ?? 'channel', conversion: q.conversion ?? 'won',
    from: q.from ? `${q.from}T00:00:00.000Z` : null, to: q.to ? `${q.to}T23:59:59.999Z` : null,
    lookbackDays: 90, currency: 'EUR',
    coverage: { conversions: 0.5 + m / 40, revenue: 0.6 + m / 50 }, utmCompleteness: 0.75,
    totals: { ...t, roas: t.revenue / t.spend, cac: t.spend / t.conversions, costPerLead: t.spend / t.leads, avgDealSize: t.revenue / t.conversions, conversionRate: t.conversions / t.leads },
    rows,
  }
}

export function fixtureLead(id: string) {
  const touch = (i: number) => ({
    touchId: `t${i}`, ts: Date.UTC(2026, 0, 1 + i), visitorId: XSS[i % XSS.length],
    source: XSS[0], medium: XSS[1], campaign: XSS[2], term: XSS[3], content: XSS[4],
    click_id: XSS[5], click_id_type: XSS[0], referrer: `https://evil.example/${XSS[1]}`,
    landing: `https://shop.example/?utm_source=${XSS[3]}`, channel: XSS[i % XSS.length],
  })
  return {
    lead: { id, identifiedAt: Date.UTC(2026, 0, 3), createdAt: Date.UTC(2026, 0, 3), externalId: XSS[2], traits: { name: XSS[0], company: XSS[1], note: { nested: XSS[3] } } },
    visitorIds: [XSS[0], 'v-plain'],
    touches: [0, 1, 2].map(touch),
    deals: [{ dealId: XSS[4], stage: 'won', amount: 4200, currency: 'EUR', history: [{ stage: XSS[0], ts: Date.UTC(2026, 0, 9) }] }],
  }
}

export async function startFixtureServer(opts: { basePath?: string } = {}): Promise<FixtureServer> {
  const secret = generateSecretKey()
  const site: Site = { id: 'site-1', name: `Shop ${XSS[0]}`, publicKey: 'pk_aaaaaaaaaaaaaaaaaaaaa', origins: [], cookieDomain: null, currency: 'EUR', settings: {}, createdAt: 0 }
  const sites = {
    getSite: async (id: string) => (id === site.id ? site : null),
    getSiteBySecretKeyId: async (keyId: string) => (keyId === secret.keyId ? { site, secretKeyHash: secret.hash } : null),
  }
  const dashboard = createDashboard({ store: sites as unknown as Store, basePath: opts.basePath })
  const app = Fastify()
  app.setErrorHandler((err, _request, reply) => {
    const e = err instanceof ClError ? err : clError('INTERNAL')
    return reply.code(e.status).send({ error: { code: e.code, message: e.message } })
  })
  const reader = async (request: FastifyRequest) => {
    const header = request.headers.authorization
    if (!header) {
      const s = await dashboard.siteFromSession(request)
      if (s) return s
      throw clError('MISSING_SECRET_KEY')
    }
    const key = header.replace(/^Bearer\s+/i, '')
    const keyId = secretKeyId(key)
    if (!keyId || keyId !== secret.keyId || !verifySecretKey(key, secret.hash)) throw clError('BAD_SECRET_KEY')
    return site
  }
  await app.register(async (scoped) => {
    await scoped.register(dashboard.plugin)
    scoped.get('/v1/reports/attribution', async (request) => { await reader(request); return fixtureReport(request.query as Q) })
    scoped.get('/v1/reports/models', async (request) => {
      await reader(request)
      const q = request.query as Q
      const per = MODELS.map((model) => fixtureReport({ ...q, model }))
      return {
        by: 'channel', conversion: 'won', from: null, to: null, lookbackDays: 90, currency: 'EUR', models: MODELS,
        coverage: per[0].coverage, utmCompleteness: 0.75, totals: { touches: 0, conversions: 0, revenue: 0, spend: 0 },
        rows: CHANNELS.map((key, i) => ({ key, touches: per[0].rows[i].touches, spend: per[0].rows[i].spend,
          models: Object.fromEntries(MODELS.map((m, j) => [m, { conversions: per[j].rows[i].conversions, revenue: per[j].rows[i].revenue, roas: per[j].rows[i].roas, cac: per[j].rows[i].cac }])) })),
      }
    })
    scoped.get('/v1/reports/series', async (request) => {
      await reader(request)
      const q = request.query as Q & { period?: string }
      const m = MODELS.indexOf(q.model ?? 'linear') + 1
      return { model: q.model, period: q.period, currency: 'EUR', periods: ['2026-01-05', '2026-01-12', '2026-01-19', '2026-01-26'],
        channels: CHANNELS.map((channel, i) => ({ channel, revenue: [1, 3, 2, 4].map((x) => x * (i + 1) * m * 100) })) }
    })
    scoped.get('/v1/reports/quality', async (request) => {
      await reader(request)
      return { from: null, to: null, utmCompleteness: 0.75, paidTouches: 400,
        untaggedPaid: [{ source: XSS[0], medium: 'cpc', clickIdType: 'gclid', touches: 40 }],
        duplicateLeads: [{ leadIds: ['L1', XSS[1]], reason: XSS[3] }], rejected: [{ code: 'CL_ERR_INVALID_EVENT', count: 7 }] }
    })
    scoped.get<{ Params: { id: string } }>('/v1/leads/:id', async (request) => {
      await reader(request)
      if (request.params.id === 'missing') throw clError('NOT_FOUND')
      return fixtureLead(request.params.id)
    })
  }, { prefix: opts.basePath ?? '' })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url: address + (opts.basePath ?? ''), key: secret.key, app, close: () => app.close() }
}
