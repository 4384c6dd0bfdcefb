// `closeloop report --site N [--model linear|all] [--by channel] [--from --to] [--conversion won]
//  [--lookback-days 90] [--half-life-days 7] [--journey lead|deal|account] [--ltv-months 36]
//  [--format table|csv|json]`: reads the store directly
// (no running server needed), same numbers as GET /v1/reports/*.

import { parseArgs } from 'node:util'
import type { Dimension } from '../attribution/types.js'
import { reportBudgetMs } from '../config.js'
import { clError, withHint } from '../errors.js'
import { attributionQuerySchema, modelsQuerySchema } from '../outcomes/schemas.js'
import { formatModels, formatReport, type ReportFormat } from '../reports/format.js'
import { attributionReport, modelsReport } from '../reports/query.js'
import { parseOr } from '../http/validate.js'
import { didYouMean } from '../suggest.js'
import { siteNamed, STORE_OPTIONS, withStore } from './store.js'

const FORMATS: readonly ReportFormat[] = ['table', 'csv', 'json']

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...STORE_OPTIONS,
      site: { type: 'string' },
      model: { type: 'string', default: 'linear' },
      by: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      conversion: { type: 'string' },
      'lookback-days': { type: 'string' },
      'half-life-days': { type: 'string' },
      journey: { type: 'string' },
      'ltv-months': { type: 'string' },
      format: { type: 'string', default: 'table' },
    },
  })
  if (!values.site) throw clError('USAGE', '--site NAME is required')
  const format = values.format as ReportFormat
  if (!FORMATS.includes(format)) throw withHint(clError('VALIDATION', '--format must be table, csv or json'), didYouMean(format, FORMATS))
  const query: Record<string, string> = {}
  for (const [flag, key] of [['by', 'by'], ['from', 'from'], ['to', 'to'], ['conversion', 'conversion'], ['lookback-days', 'lookbackDays'], ['half-life-days', 'halfLifeDays'], ['journey', 'journey'], ['ltv-months', 'ltvMonths']] as const) {
    const v = values[flag]
    if (v !== undefined) query[key] = v
  }
  const budgetMs = reportBudgetMs({}, process.env)
  const text = await withStore(values, async (store) => {
    const site = await siteNamed(store, values.site)
    if (values.model === 'all') {
      const q = parseOr(modelsQuerySchema, query)
      return formatModels(await modelsReport(store, site, { ...q, by: q.by as Dimension }, { budgetMs }), format)
    }
    const q = parseOr(attributionQuerySchema, { ...query, model: values.model })
    return formatReport(await attributionReport(store, site, { ...q, by: q.by as Dimension }, { budgetMs }), format)
  })
  process.stdout.write(text)
  return 0
}
