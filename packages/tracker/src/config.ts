// One options shape for npm and the script tag: `data-*` attributes parse into the same object.
import type { Consent } from './consent.js'

export interface TrackerError {
  /** Stable code, e.g. CL_ERR_TRACKER_SEND (see README). */
  code: string
  cause?: unknown
}

export interface Options {
  /** Public site key `pk_…` (required). */
  site: string
  /** Collector base URL, e.g. https://t.example.com or /_cl. Default: the script's own origin (npm: the page's origin). */
  collector?: string
  /** Cookie domain, e.g. `.example.com` to share the visitor across subdomains. Default: current host. */
  cookieDomain?: string
  /** Default `granted`; `gtag` follows Google Consent Mode v2 (`analytics_storage`) instead of consent() calls. */
  consent?: Consent | 'gtag'
  /** Treat `navigator.globalPrivacyControl === true` as `denied`. Default true. */
  respectGpc?: boolean
  /** Treat Do Not Track (`navigator.doNotTrack == '1'`) as `denied`, like GPC. Default false. */
  respectDnt?: boolean
  /** Minutes of inactivity that end a session. Default 30. */
  sessionTimeout?: number
  /** `auto` fills and adds hidden fields, `fill` only fills existing inputs, `off`. Default `auto`. */
  forms?: 'auto' | 'fill' | 'off'
  /** Prefix of the hidden-field names. Default `cl_`. */
  fieldPrefix?: string
  /** Count history.pushState/popstate navigations as pages. Default true. */
  spa?: boolean
  /** Other own domains whose referrals are not new touches. Default none. */
  internalDomains?: string[]
  /** Receives every error instead of the page (npm only: a script tag cannot pass a function). */
  onError?: (error: TrackerError) => void
}

export const DEFAULTS = {
  site: '',
  collector: '',
  cookieDomain: '',
  consent: 'granted' as Consent | 'gtag',
  respectGpc: true,
  respectDnt: false,
  sessionTimeout: 30,
  forms: 'auto' as 'auto' | 'fill' | 'off',
  fieldPrefix: 'cl_',
  spa: true,
  internalDomains: [] as string[],
}

export type Config = typeof DEFAULTS & Pick<Options, 'onError'>
type Values = Record<string, unknown>

/** Options from a script tag's data-* attributes (dataset turns `data-cookie-domain` into `cookieDomain`). */
export function fromDataset(ds: DOMStringMap): Options {
  const o: Values = {}
  for (const k in ds) {
    const v = ds[k]!,
      d = (DEFAULTS as Record<string, any>)[k]
    // The default's type says how to read the attribute: boolean, number, comma list or text (also
    // an attribute that is no option: unused).
    o[k] = d === !!d ? v != 'false' : d == 30 ? +v : d?.map ? v.split(/ *, */) : v
  }
  return o as unknown as Options
}

/** Options merged over DEFAULTS; unset (undefined/null) options keep their default. */
export function resolveOptions(options: Options): Config {
  const c: Values = { ...DEFAULTS }
  for (const k in options) if ((options as unknown as Values)[k] != null) c[k] = (options as unknown as Values)[k]
  // NaN, 0 or negative minutes would end every session at once.
  if (!((c.sessionTimeout as number) > 0)) c.sessionTimeout = 30
  c.collector = String(c.collector).replace(/\/+$/, '')
  return c as Config
}
