// The query every report view shares: model, conversion type, lookback, journey mode and date range.
// Defaults: linear, won, the API's lookback (90 days), the site's journey mode, the last 90 days (UTC
// dates, as the API reads them). The query lives in the URL hash (`#overview?model=markov&conversion=sql`), so reload,
// back/forward and shared links keep it; only values that differ from the defaults are written.

import { h } from '../dom.js'
import { CONVERSIONS, JOURNEY_MODES, MODELS, type ConversionKind, type JourneyMode, type ModelName, type ReportQuery } from '../types.js'

export const MODEL_LABELS: Record<ModelName, string> = {
  first_touch: 'First touch', last_touch: 'Last touch', linear: 'Linear', time_decay: 'Time decay',
  position_based: 'Position-based (U)', w_shaped: 'W-shaped', full_path: 'Full path', markov: 'Markov chain', shapley: 'Shapley',
}

/** What a conversion of each kind is called in figures and captions. */
export const CONVERSION_LABELS: Record<ConversionKind, { one: string; many: string }> = {
  lead: { one: 'Lead', many: 'Leads' }, sql: { one: 'SQL', many: 'SQLs' },
  opportunity: { one: 'Opportunity', many: 'Opportunities' }, won: { one: 'Won', many: 'Won deals' },
}

/** Whose touches make a deal's path (the API's `journey`); no choice = the site's setting. */
export const JOURNEY_LABELS: Record<JourneyMode, string> = {
  lead: 'Lead', deal: 'Deal (all its people)', account: 'Account',
}

/** Lookback choices in days; the first is the API's default, sent as no parameter. */
export const LOOKBACKS = [90, 7, 14, 30, 60, 180, 365] as const

export function defaultQuery(now = Date.now()): ReportQuery {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
  return { model: 'linear', from: day(now - 89 * 86_400_000), to: day(now), conversion: 'won' }
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/

/** The query of a hash's `?…` part; anything missing or malformed falls back to the default. */
export function queryFromParams(params: URLSearchParams, defaults = defaultQuery()): ReportQuery {
  const q: ReportQuery = { ...defaults }
  const model = params.get('model')
  if (model && (MODELS as readonly string[]).includes(model)) q.model = model as ModelName
  const conversion = params.get('conversion')
  if (conversion && (CONVERSIONS as readonly string[]).includes(conversion)) q.conversion = conversion as ConversionKind
  const from = params.get('from')
  const to = params.get('to')
  if (from && DAY_RE.test(from)) q.from = from
  if (to && DAY_RE.test(to)) q.to = to
  const lookback = Number(params.get('lookbackDays'))
  if (Number.isInteger(lookback) && lookback > 0 && lookback <= 3650) q.lookbackDays = lookback
  const journey = params.get('journey')
  if (journey && (JOURNEY_MODES as readonly string[]).includes(journey)) q.journey = journey as JourneyMode
  return q
}

export function queryToParams(q: ReportQuery, defaults = defaultQuery()): URLSearchParams {
  const params = new URLSearchParams()
  for (const k of ['model', 'conversion', 'from', 'to', 'lookbackDays', 'journey'] as const) {
    if (q[k] !== undefined && q[k] !== defaults[k]) params.set(k, String(q[k]))
  }
  return params
}

export function filtersView(q: ReportQuery, onChange: (q: ReportQuery) => void): HTMLElement {
  const model = h('select', { id: 'f-model', name: 'model' },
    MODELS.map((m) => h('option', { value: m, selected: m === q.model }, MODEL_LABELS[m])))
  const conversion = h('select', { id: 'f-conversion', name: 'conversion' },
    CONVERSIONS.map((c) => h('option', { value: c, selected: c === q.conversion }, CONVERSION_LABELS[c].one)))
  const lookback = h('select', { id: 'f-lookback', name: 'lookbackDays' },
    LOOKBACKS.map((d, i) => h('option', { value: i === 0 ? '' : d, selected: (q.lookbackDays ?? LOOKBACKS[0]) === d }, `${d} days`)))
  if (q.lookbackDays !== undefined && !(LOOKBACKS as readonly number[]).includes(q.lookbackDays)) {
    lookback.append(h('option', { value: q.lookbackDays, selected: true }, `${q.lookbackDays} days`))
  }
  const journey = h('select', { id: 'f-journey', name: 'journey' },
    h('option', { value: '', selected: q.journey === undefined }, 'Site default'),
    JOURNEY_MODES.map((m) => h('option', { value: m, selected: m === q.journey }, JOURNEY_LABELS[m])))
  const from = h('input', { id: 'f-from', name: 'from', type: 'date', value: q.from, required: true })
  const to = h('input', { id: 'f-to', name: 'to', type: 'date', value: q.to, required: true })
  const form = h('form', { class: 'filters', 'aria-label': 'Report filters' },
    h('div', null, h('label', { for: 'f-model' }, 'Attribution model'), model),
    h('div', null, h('label', { for: 'f-conversion' }, 'Conversion'), conversion),
    h('div', null, h('label', { for: 'f-lookback' }, 'Lookback'), lookback),
    h('div', null, h('label', { for: 'f-journey' }, 'Journey'), journey),
    h('div', null, h('label', { for: 'f-from' }, 'From'), from),
    h('div', null, h('label', { for: 'f-to' }, 'To'), to),
    h('button', { type: 'submit' }, 'Apply'))
  const emit = () => {
    if (!from.value || !to.value) return
    onChange({
      ...q, model: model.value as ModelName, conversion: conversion.value as ConversionKind,
      lookbackDays: lookback.value === '' ? undefined : Number(lookback.value), from: from.value, to: to.value,
      journey: journey.value === '' ? undefined : journey.value as JourneyMode,
    })
  }
  for (const el of [model, conversion, lookback, journey, from, to]) el.addEventListener('change', emit)
  form.addEventListener('submit', (ev) => { ev.preventDefault(); emit() })
  return form
}
