// What the two CSV feeds (Google Ads and Microsoft Advertising scheduled uploads) share: cells
// that a spreadsheet cannot run as a formula, times in the feed's UTC time zone, click windows.

import { clError } from '../../errors.js'
import type { RawOptions } from '../types.js'
import type { ClickRef, LeadMatchContext } from './adapter.js'

const DAY = 86_400_000

/** Both platforms count a conversion only within 90 days of its click. */
export const CLICK_WINDOW_MS = 90 * DAY

/** The feeds' time zone row: every conversion time is written in UTC. */
export const TIME_ZONE_ROW = 'Parameters:TimeZone=+0000'

/** A click ID as the platforms issue them; anything else (tracked text is attacker-controlled) is not written. */
const CLICK_ID_RE = /^[A-Za-z0-9_-]{1,512}$/

export const plainClickId = (id: string): boolean => CLICK_ID_RE.test(id)

/**
 * One CSV cell: quoted when it holds a comma, quote or line break; a text starting with a formula
 * character (= + - @, tab, CR) gets a leading apostrophe so a spreadsheet shows it as text.
 */
export function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/** `yyyy-mm-dd hh:mm:ss` in UTC (the feeds' TimeZone row). */
export function feedTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
}

/** A value as the templates take it: a plain decimal, at most 2 places; empty when there is none. */
export function feedValue(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '' : String(Math.round(v * 100) / 100)
}

/** The newest click of these types within the window before the conversion. */
export function clickInWindow(lead: LeadMatchContext, types: readonly string[]): ClickRef | null {
  for (const c of lead.clicks) {
    if (!types.includes(c.type) || !plainClickId(c.value)) continue
    if (c.ts <= lead.convertedAt && lead.convertedAt - c.ts <= CLICK_WINDOW_MS) return c
  }
  return null
}

/** Feeds take no options: anything given is a mistake worth saying. */
export function noOptions(raw: RawOptions, kind: string): Record<string, never> {
  const given = Object.entries(raw).filter(([, v]) => v !== undefined && v !== false).map(([k]) => k)
  if (given.length > 0) throw clError('BAD_CONFIG', `${kind} takes no option --${given[0]}: the platform downloads the feed with the credentials printed by destinations add`)
  return {}
}
