// `closeloop rates import|list` as real child processes: the same rates POST/GET /v1/rates keep,
// and they convert amounts of later imports.

import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { expectFailure, runCli } from './cli-process.js'
import { tempDir } from '../http/helpers.js'

const dir = tempDir('closeloop-cli-rates-')
const data = join(dir, 'data')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text)
  return join(dir, name)
}

describe('closeloop rates', () => {
  it('imports good rows, reports bad ones by line, lists them, and later spend converts with them', async () => {
    const added = await runCli(['sites', 'add', '--data', data, '--name', 'shop', '--origin', 'https://shop.example', '--currency', 'EUR'])
    expect(added.code, added.stderr).toBe(0)
    const rates = file('rates.csv', [
      'Date,Currency,Rate',
      '2026-01-01,usd,0.9',
      ',GBP,1.15',
      '2026-02-30,USD,0.8',
      '2026-01-02,dollars,0.9',
      '2026-01-03,CHF,-1',
      '2026-01-04,CHF,1.05 EUR',
    ].join('\n') + '\n')
    const r = await runCli(['rates', 'import', rates, '--site', 'shop', '--data', data])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('rates: 2 of 6 rows imported, 4 failed\n')
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines.map((l) => l.replace(/^.*rates\.csv:(\d+): .* \((CL_ERR_\w+)\)$/, '$1 $2'))).toEqual([
      '4 CL_ERR_BAD_DATE', '5 CL_ERR_BAD_CURRENCY', '6 CL_ERR_VALIDATION', '7 CL_ERR_VALIDATION',
    ])

    const list = await runCli(['rates', 'list', '--site', 'shop', '--data', data])
    expect([list.code, list.stderr]).toEqual([0, ''])
    expect(list.stdout).toBe('date\tcurrency\trate (in EUR)\nstanding\tGBP\t1.15\n2026-01-01\tUSD\t0.9\n')
    const json = await runCli(['rates', 'list', '--site', 'shop', '--data', data, '--json'])
    expect(JSON.parse(json.stdout)).toEqual({ currency: 'EUR', rates: [{ currency: 'GBP', date: null, rate: 1.15 }, { currency: 'USD', date: '2026-01-01', rate: 0.9 }] })

    // Spend in USD on a later day converts with the dated USD rate; in JPY it has none.
    const spend = file('spend.csv', 'date,source,medium,amount,currency\n2026-01-05,google,cpc,100,USD\n2026-01-05,google,cpc,100,JPY\n')
    const s = await runCli(['spend', 'import', spend, '--site', 'shop', '--data', data])
    expect(s.stdout).toBe('spend: 1 of 2 rows imported, 1 failed\n')
    expect(s.stderr).toContain('spend.csv:3:')
    expect(s.stderr).toContain('(CL_ERR_NO_FX_RATE)')
  })

  it('refuses a rates file without a rate column, and an unknown site', async () => {
    const bad = file('bad.csv', 'date,currency\n2026-01-01,USD\n')
    const r = await runCli(['rates', 'import', bad, '--site', 'shop', '--data', data])
    expect(expectFailure(r, 'rates import', 'CL_ERR_BAD_CSV').message).toBe('line 1: missing column "rate"')
    const unknown = await runCli(['rates', 'list', '--site', 'nope', '--data', data])
    expectFailure(unknown, 'rates list', 'CL_ERR_SITE_NOT_FOUND')
  })
})
