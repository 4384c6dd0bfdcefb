#!/usr/bin/env node
// A CRM's deal webhook, as a tiny sender: turns deal stage changes into POST /v1/deals calls on a
// Closeloop collector, with the retries a real webhook sender has (429/5xx/network errors back off
// and retry; 4xx are final). No dependencies: Node 20's fetch.
//
//   node send.mjs --collector http://127.0.0.1:8787 --key sk_… \
//     --deal D-1001 --email ada@example.com --stage "Closed Won" --amount 12000 [--currency EUR] [--ts 2026-01-31T10:00:00Z]
//   node send.mjs --collector … --key sk_… --file changes.json    # [{ dealId, email, stage, … }, …]

import { readFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

/**
 * A CRM's deal event (HubSpot-like field names) → the /v1/deals body. Stage names are sent as the
 * CRM has them ("Closed Won", "closedlost", "Presentation Scheduled"); the collector maps them.
 */
export function toCloseloopDeal(change) {
  const deal = {
    dealId: String(change.dealId ?? change.objectId ?? ''),
    stage: String(change.stage ?? change.dealstage ?? ''),
  }
  if (change.email) deal.email = String(change.email)
  if (change.externalId ?? change.contactId) deal.externalId = String(change.externalId ?? change.contactId)
  if (change.leadId) deal.leadId = String(change.leadId)
  if (change.amount !== undefined && change.amount !== null && change.amount !== '') deal.amount = Number(change.amount)
  if (change.currency) deal.currency = String(change.currency)
  const ts = change.ts ?? change.occurredAt
  if (ts !== undefined) deal.ts = typeof ts === 'number' ? ts : new Date(ts).getTime()
  return deal
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * POST one change (or a batch, as { deals: [...] }) and return the collector's JSON answer.
 * Retries up to `retries` times on 429, 5xx and network errors, honouring Retry-After.
 */
export async function sendDealChanges(changes, { collector, key, retries = 4, fetchImpl = fetch } = {}) {
  const list = Array.isArray(changes) ? changes : [changes]
  const body = list.length === 1 ? toCloseloopDeal(list[0]) : { deals: list.map(toCloseloopDeal) }
  const url = `${String(collector).replace(/\/+$/, '')}/v1/deals`
  for (let attempt = 0; ; attempt++) {
    let res
    try {
      res = await fetchImpl(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    } catch (err) {
      if (attempt >= retries) throw err
      await sleep(backoff(attempt))
      continue
    }
    const json = await res.json().catch(() => null)
    if (res.ok) return json
    const retryable = res.status === 429 || res.status >= 500
    if (!retryable || attempt >= retries) {
      const e = new Error(`collector answered ${res.status}: ${json?.error?.code ?? ''} ${json?.error?.message ?? ''}`.trim())
      e.status = res.status
      e.code = json?.error?.code
      throw e
    }
    const after = Number(res.headers.get('retry-after'))
    await sleep(Number.isFinite(after) && after > 0 ? after * 1000 : backoff(attempt))
  }
}

function backoff(attempt) {
  // Exponential with full jitter, capped at 10 s.
  return Math.random() * Math.min(10_000, 250 * 2 ** attempt)
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      collector: { type: 'string', default: process.env.CLOSELOOP_COLLECTOR ?? 'http://127.0.0.1:8787' },
      key: { type: 'string', default: process.env.CLOSELOOP_SECRET_KEY },
      file: { type: 'string' },
      deal: { type: 'string' },
      email: { type: 'string' },
      'external-id': { type: 'string' },
      stage: { type: 'string' },
      amount: { type: 'string' },
      currency: { type: 'string' },
      ts: { type: 'string' },
    },
  })
  if (!values.key) throw new Error('--key sk_… (or CLOSELOOP_SECRET_KEY) is required')
  const changes = values.file
    ? JSON.parse(await readFile(values.file, 'utf8'))
    : [{ dealId: values.deal, email: values.email, externalId: values['external-id'], stage: values.stage, amount: values.amount, currency: values.currency, ts: values.ts }]
  const result = await sendDealChanges(changes, { collector: values.collector, key: values.key })
  process.stdout.write(JSON.stringify(result, null, 2) + '\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`crm-webhook: ${err.message}\n`)
    process.exitCode = 1
  })
}
