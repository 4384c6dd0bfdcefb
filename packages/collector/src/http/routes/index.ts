// Every route module, registered in order under the base path. Add new resources here.

import type { RouteModule } from '../context.js'
import { dashboardRoute } from '../../dashboard/plugin.js'
import { accountsRoute } from './accounts.js'
import { collectRoute } from './collect.js'
import { crmRoute } from './crm.js'
import { dealsRoute } from './deals.js'
import { feedsRoute } from './feeds.js'
import { ratesRoute } from './rates.js'
import { reportsRoute } from './reports.js'
import { spendRoute } from './spend.js'
import { healthRoute } from './health.js'
import { identifyRoute } from './identify.js'
import { importRoute } from './import.js'
import { leadsRoute } from './leads.js'
import { metricsRoute } from './metrics.js'
import { privacyRoute } from './privacy.js'
import { scriptRoute } from './script.js'
import { segmentRoute } from './segment.js'

export const ROUTES: RouteModule[] = [
  healthRoute,
  metricsRoute,
  scriptRoute,
  collectRoute,
  importRoute,
  segmentRoute,
  identifyRoute,
  leadsRoute,
  accountsRoute,
  privacyRoute,
  dealsRoute,
  crmRoute,
  feedsRoute,
  spendRoute,
  ratesRoute,
  reportsRoute,
  dashboardRoute,
]
