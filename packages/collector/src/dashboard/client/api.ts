// Same-origin JSON calls. The page lives at `<base>/dashboard/`, so API paths are resolved
// relative to it and the collector's base path needs no configuration here. The session cookie
// rides along automatically (same origin); the secret key is never kept in the page.

import type { AccountBody, AttributionResponse, ConnectionStatus, DestinationsReport, FunnelDimension, FunnelReport, LeadList, LeadView, ModelsComparison, QualityReport, ReportQuery, SeriesReport, SessionInfo } from './types.js'

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

const root = new URL('../', location.href)
const dashboard = new URL('./', location.href)

async function call<T>(url: URL, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { credentials: 'same-origin', ...init, headers: { accept: 'application/json', ...init?.headers } })
  const body: unknown = res.status === 204 ? null : await res.json().catch(() => null)
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error
    throw new ApiError(res.status, err?.code ?? 'CL_ERR_HTTP', err?.message ?? `HTTP ${res.status}`)
  }
  return body as T
}

/**
 * Each report's query schema is strict (an unknown parameter is a 400), so every call names the
 * parameters its endpoint takes instead of spreading the shared filter state into the URL.
 */
function common(q: ReportQuery): Record<string, string | number | undefined> {
  return { from: q.from, to: q.to, conversion: q.conversion, lookbackDays: q.lookbackDays, journey: q.journey }
}

function query(path: string, params: Record<string, string | number | undefined>): URL {
  const url = new URL(path, root)
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v))
  return url
}

export const api = {
  session: () => call<SessionInfo>(new URL('session', dashboard)),
  signIn: (key: string) => call<SessionInfo>(new URL('session', dashboard), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }),
  }),
  signOut: () => call<null>(new URL('session', dashboard), { method: 'DELETE' }),
  report: (q: ReportQuery, by: string, extra: Record<string, string> = {}) =>
    call<AttributionResponse>(query('v1/reports/attribution', { ...common(q), model: q.model, by, ...extra })),
  // Every model at once: no `model` parameter.
  models: (q: ReportQuery, by: string) => call<ModelsComparison>(query('v1/reports/models', { ...common(q), by })),
  lead: (id: string) => call<LeadView>(new URL(`v1/leads/${encodeURIComponent(id)}`, root)),
  account: (id: string) => call<AccountBody>(new URL(`v1/accounts/${encodeURIComponent(id)}`, root)),
  // The e-mail goes in this request's query only: the collector logs no query strings, and the page never puts it in its own URL.
  leadByEmail: (email: string) => call<LeadList>(query('v1/leads', { email })),
  recentLeads: (limit: number) => call<LeadList>(query('v1/leads', { limit })),
  series: (q: ReportQuery, period: 'week' | 'month') => call<SeriesReport>(query('v1/reports/series', { ...common(q), model: q.model, period })),
  // Leads by identify time: no conversion or lookback.
  funnel: (q: ReportQuery, by: FunnelDimension) => call<FunnelReport>(query('v1/reports/funnel', { by, from: q.from, to: q.to, journey: q.journey })),
  quality: (q: ReportQuery) => call<QualityReport>(query('v1/reports/quality', { from: q.from, to: q.to })),
  crmConnections: () => call<{ connections: ConnectionStatus[] }>(new URL('v1/crm/connections', root)),
  // The whole outbox: no range.
  destinations: () => call<DestinationsReport>(new URL('v1/reports/destinations', root)),
}
