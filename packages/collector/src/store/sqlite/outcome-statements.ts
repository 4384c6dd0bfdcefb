// The statements of accounts, CRM connections, destinations, deals, spend, rates and the report load (migrations 2 and 6) as one
// object, prepared once after migrations from the SQL of the modules that use them.

import { ACCOUNT_SQL, type AccountStatements } from './accounts.js'
import { CRM_SQL, type CrmStatements } from './crm.js'
import { DEAL_SQL, type DealStatements } from './deals.js'
import { DESTINATION_SQL, type DestinationStatements } from './destinations.js'
import { REPORT_DATA_SQL, type ReportDataStatements } from './report-data.js'
import { REPORT_OUTCOME_SQL, type ReportOutcomeStatements } from './report-outcomes.js'
import { SPEND_SQL, type SpendStatements } from './spend.js'
import { prepareAll, type Db } from './statements.js'
import { prepareTouchScans, TOUCH_SQL, type TouchScanStatements } from './touch-scan.js'

export type OutcomeStatements = CrmStatements & DestinationStatements & AccountStatements & DealStatements & SpendStatements & TouchScanStatements & ReportOutcomeStatements & ReportDataStatements

export function prepareOutcomeStatements(db: Db): OutcomeStatements {
  return {
    ...prepareAll(db, { ...TOUCH_SQL, ...ACCOUNT_SQL, ...CRM_SQL, ...DESTINATION_SQL, ...DEAL_SQL, ...SPEND_SQL, ...REPORT_OUTCOME_SQL, ...REPORT_DATA_SQL }),
    touches: prepareTouchScans(db),
  }
}
