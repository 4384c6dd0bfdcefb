// One typed configuration object with one DEFAULTS constant. Sources, strongest first:
// CLI flags, CLOSELOOP_* environment variables, DEFAULTS.

import { clError } from './errors.js'

export interface RateLimitConfig {
  /** Sustained requests per second per client IP; 0 disables the limit. */
  ipPerSecond: number
  /** Burst size per client IP. */
  ipBurst: number
  /** Sustained requests per second per site key; 0 disables the limit. */
  keyPerSecond: number
  keyBurst: number
}

export interface Config {
  /** --port / CLOSELOOP_PORT, default 8787. */
  port: number
  /** --host / CLOSELOOP_HOST, default 127.0.0.1 (loopback only; use 0.0.0.0 to expose). */
  host: string
  /** --data / CLOSELOOP_DATA: directory of the SQLite file, default ./closeloop-data. */
  dataDir: string
  /** --database-url / CLOSELOOP_DATABASE_URL: PostgreSQL instead of SQLite. */
  databaseUrl: string | null
  /** --base-path / CLOSELOOP_BASE_PATH: prefix of every route, e.g. /_cl behind a reverse proxy. */
  basePath: string
  /** CLOSELOOP_TRUST_PROXY: trust X-Forwarded-* (client IP, https) from a reverse proxy. Default false. */
  trustProxy: boolean
  /**
   * CLOSELOOP_BOT_FILTER (default true): drop collect requests whose User-Agent `isbot` flags
   * (counted in /metrics). Headless Chromium says "HeadlessChrome" and counts as a bot; browser
   * tests set a normal user agent or CLOSELOOP_BOT_FILTER=false.
   */
  botFilter: boolean
  /** CLOSELOOP_LOG_LEVEL, default info. */
  logLevel: string
  /** Max body of /v1/import in bytes (CLOSELOOP_IMPORT_BODY_LIMIT), default 32 MiB. */
  importBodyLimit: number
  /** Max events per /v1/import request (CLOSELOOP_IMPORT_MAX_EVENTS), default 50,000. */
  importMaxEvents: number
  /** CLOSELOOP_RATE_IP_PER_SECOND, _RATE_IP_BURST, _RATE_KEY_PER_SECOND, _RATE_KEY_BURST. */
  rateLimit: RateLimitConfig
  /**
   * --public-url / CLOSELOOP_PUBLIC_URL: the URL the collector is reached at from outside (with the
   * base path), e.g. https://cl.example.com. CRM webhook signatures cover the URL the CRM called;
   * behind a proxy the host the collector sees differs. A connection's own --public-url wins.
   */
  publicUrl: string | null
  /** --crm-sync-minutes / CLOSELOOP_CRM_SYNC_MINUTES: pull changed CRM deals this often (0 = never), default 15. */
  crmSyncMinutes: number
  /**
   * --report-budget-ms / CLOSELOOP_REPORT_BUDGET_MS: wall time a report may spend on markov solves
   * (off the event loop, one at a time) before it answers CL_ERR_REPORT_TOO_COMPLEX, default 10,000.
   */
  reportBudgetMs: number
  /**
   * CLOSELOOP_DELIVERY_CLAIM_SECONDS: how long a collector holds the conversion rows it is sending
   * to ad platforms; rows of a collector that died mid-send go out again (same IDs) after it.
   * Default 300.
   */
  deliveryClaimSeconds: number
}

export const DEFAULTS: Config = {
  port: 8787,
  host: '127.0.0.1',
  dataDir: './closeloop-data',
  databaseUrl: null,
  basePath: '',
  trustProxy: false,
  botFilter: true,
  logLevel: 'info',
  importBodyLimit: 32 * 1024 * 1024,
  importMaxEvents: 50_000,
  // Generous on purpose: a single busy site behind one NAT must not be throttled by default.
  rateLimit: { ipPerSecond: 2_000, ipBurst: 10_000, keyPerSecond: 10_000, keyBurst: 50_000 },
  publicUrl: null,
  crmSyncMinutes: 15,
  reportBudgetMs: 10_000,
  deliveryClaimSeconds: 300,
}

export type ConfigFlags = Partial<Record<'port' | 'host' | 'data' | 'database-url' | 'base-path' | 'public-url' | 'crm-sync-minutes' | 'report-budget-ms', string>>

/** `https://cl.example.com/` → `https://cl.example.com`; null when unset. */
export function normalizePublicUrl(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === '') return null
  const url = raw.trim().replace(/\/+$/, '')
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) throw clError('BAD_CONFIG', 'public URL must look like https://cl.example.com')
  return url
}

function int(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw clError('BAD_CONFIG', `${name} must be a non-negative integer`)
  return n
}

/** A claim of 0 s would let a second round, or another collector, send rows still in flight. */
function claimSeconds(raw: string | undefined): number {
  const s = int('CLOSELOOP_DELIVERY_CLAIM_SECONDS', raw, DEFAULTS.deliveryClaimSeconds)
  if (s < 1) throw clError('BAD_CONFIG', 'CLOSELOOP_DELIVERY_CLAIM_SECONDS must be at least 1')
  return s
}

/** `/_cl/` → `/_cl`; `` → ``. Rejects anything that is not a plain path. */
export function normalizeBasePath(raw: string): string {
  const trimmed = raw.trim().replace(/\/+$/, '')
  if (trimmed === '') return ''
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed) || trimmed.includes('//')) {
    throw clError('BAD_CONFIG', 'base path must look like /_cl')
  }
  return trimmed
}

/** --report-budget-ms / CLOSELOOP_REPORT_BUDGET_MS (also read by `closeloop report`). */
export function reportBudgetMs(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): number {
  const ms = int('report-budget-ms', flags['report-budget-ms'] ?? env.CLOSELOOP_REPORT_BUDGET_MS, DEFAULTS.reportBudgetMs)
  if (ms < 1) throw clError('BAD_CONFIG', 'report-budget-ms must be at least 1')
  return ms
}

export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: keyof ConfigFlags, envName: string): string | undefined => flags[flag] ?? env[envName]
  const port = int('port', pick('port', 'CLOSELOOP_PORT'), DEFAULTS.port)
  if (port > 65535) throw clError('BAD_CONFIG', 'port must be at most 65535')
  const d = DEFAULTS.rateLimit
  return {
    port,
    host: pick('host', 'CLOSELOOP_HOST') || DEFAULTS.host,
    dataDir: pick('data', 'CLOSELOOP_DATA') || DEFAULTS.dataDir,
    databaseUrl: pick('database-url', 'CLOSELOOP_DATABASE_URL') || null,
    basePath: normalizeBasePath(pick('base-path', 'CLOSELOOP_BASE_PATH') ?? DEFAULTS.basePath),
    trustProxy: /^(1|true|yes)$/i.test(env.CLOSELOOP_TRUST_PROXY ?? ''),
    botFilter: !/^(0|false|no|off)$/i.test(env.CLOSELOOP_BOT_FILTER ?? ''),
    logLevel: env.CLOSELOOP_LOG_LEVEL || DEFAULTS.logLevel,
    importBodyLimit: int('CLOSELOOP_IMPORT_BODY_LIMIT', env.CLOSELOOP_IMPORT_BODY_LIMIT, DEFAULTS.importBodyLimit),
    importMaxEvents: int('CLOSELOOP_IMPORT_MAX_EVENTS', env.CLOSELOOP_IMPORT_MAX_EVENTS, DEFAULTS.importMaxEvents),
    rateLimit: {
      ipPerSecond: int('CLOSELOOP_RATE_IP_PER_SECOND', env.CLOSELOOP_RATE_IP_PER_SECOND, d.ipPerSecond),
      ipBurst: int('CLOSELOOP_RATE_IP_BURST', env.CLOSELOOP_RATE_IP_BURST, d.ipBurst),
      keyPerSecond: int('CLOSELOOP_RATE_KEY_PER_SECOND', env.CLOSELOOP_RATE_KEY_PER_SECOND, d.keyPerSecond),
      keyBurst: int('CLOSELOOP_RATE_KEY_BURST', env.CLOSELOOP_RATE_KEY_BURST, d.keyBurst),
    },
    publicUrl: normalizePublicUrl(pick('public-url', 'CLOSELOOP_PUBLIC_URL')),
    crmSyncMinutes: int('crm-sync-minutes', pick('crm-sync-minutes', 'CLOSELOOP_CRM_SYNC_MINUTES'), DEFAULTS.crmSyncMinutes),
    reportBudgetMs: reportBudgetMs(flags, env),
    deliveryClaimSeconds: claimSeconds(env.CLOSELOOP_DELIVERY_CLAIM_SECONDS),
  }
}
