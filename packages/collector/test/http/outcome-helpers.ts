// Helpers of the closing-the-loop tests: events with touches for /v1/import, and identify.

import { nanoid } from 'nanoid'
import { secret, type TestServer } from './helpers.js'

export const DAY = 86_400_000
export const T0 = Date.UTC(2026, 0, 5)

export interface TouchSpec {
  source: string
  medium: string
  campaign?: string
  channel?: string
  click_id_type?: string
}

/** A page event that opens a touch at `ts`, as /v1/import takes it. */
export function touchEvent(vid: string, ts: number, t: TouchSpec): Record<string, unknown> {
  const q = t.campaign ? `?utm_source=${encodeURIComponent(t.source)}&utm_medium=${encodeURIComponent(t.medium)}&utm_campaign=${encodeURIComponent(t.campaign)}` : ''
  const landing = `https://shop.example/${q}`
  return {
    id: nanoid(21), type: 'page', ts, vid, sid: nanoid(12), url: landing, title: 'Shop',
    touch: { ts, source: t.source, medium: t.medium, campaign: t.campaign ?? null, click_id: t.click_id_type ? nanoid(10) : null, click_id_type: t.click_id_type ?? null, landing },
  }
}

export async function importEvents(server: TestServer, events: unknown[]): Promise<void> {
  const r = await secret(server, '/v1/import', { events })
  if (r.status !== 200 || r.body.accepted !== events.length) throw new Error(`import failed: ${r.status} ${r.text}`)
}

export async function identify(server: TestServer, body: Record<string, unknown>): Promise<string> {
  const r = await secret(server, '/v1/identify', body)
  if (r.status !== 200) throw new Error(`identify failed: ${r.status} ${r.text}`)
  return r.body.leadId as string
}
