// The query every report view shares: model and conversion-date range. Defaults: linear, the
// last 90 days (UTC dates, as the API reads them).

import { h } from '../dom.js'
import { MODELS, type ModelName, type ReportQuery } from '../types.js'

export const MODEL_LABELS: Record<ModelName, string> = {
  first_touch: 'First touch', last_touch: 'Last touch', linear: 'Linear', time_decay: 'Time decay',
  position_based: 'Position-based (U)', w_shaped: 'W-shaped', full_path: 'Full path', markov: 'Markov chain', shapley: 'Shapley',
}

export function defaultQuery(now = Date.now()): ReportQuery {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
  return { model: 'linear', from: day(now - 89 * 86_400_000), to: day(now), conversion: 'won' }
}

export function filtersView(q: ReportQuery, onChange: (q: ReportQuery) => void): HTMLElement {
  const model = h('select', { id: 'f-model', name: 'model' },
    MODELS.map((m) => h('option', { value: m, selected: m === q.model }, MODEL_LABELS[m])))
  const from = h('input', { id: 'f-from', name: 'from', type: 'date', value: q.from, required: true })
  const to = h('input', { id: 'f-to', name: 'to', type: 'date', value: q.to, required: true })
  const form = h('form', { class: 'filters', 'aria-label': 'Report filters' },
    h('div', null, h('label', { for: 'f-model' }, 'Attribution model'), model),
    h('div', null, h('label', { for: 'f-from' }, 'From'), from),
    h('div', null, h('label', { for: 'f-to' }, 'To'), to),
    h('button', { type: 'submit' }, 'Apply'))
  const emit = () => {
    if (!from.value || !to.value) return
    onChange({ ...q, model: model.value as ModelName, from: from.value, to: to.value })
  }
  model.addEventListener('change', emit)
  from.addEventListener('change', emit)
  to.addEventListener('change', emit)
  form.addEventListener('submit', (ev) => { ev.preventDefault(); emit() })
  return form
}
