import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { COMPACT_SOURCES } from '../src/sources-compact.js'
import { FULL_SOURCES } from '../src/sources-full.js'

const pkg = (p: string) => new URL('../' + p, import.meta.url)
const csv = readFileSync(pkg('data/ga4-source-categories.csv'), 'utf8')
  .trim()
  .split(/\r?\n/)
  .slice(1)
  .map((l) => l.split(','))

describe('source lists', () => {
  it('the generated full list holds every row of the vendored CSV', () => {
    expect(csv.length).toBeGreaterThan(800)
    for (const [name, cat] of csv) expect(FULL_SOURCES[name.toLowerCase()], name).toBe(cat.replace('SOURCE_CATEGORY_', ''))
    expect(Object.keys(FULL_SOURCES)).toHaveLength(new Set(csv.map(([n]) => n.toLowerCase())).size)
  })
  it('the compact script list is a subset with the same categories', () => {
    for (const [name, cat] of Object.entries(COMPACT_SOURCES)) expect(FULL_SOURCES[name], name).toBe(cat)
  })
})

describe('the package stands alone', () => {
  it('the generator regenerates src/sources-full.ts byte for byte from the vendored CSV', () => {
    const out = execFileSync(process.execPath, [new URL('../scripts/gen-sources.mjs', import.meta.url).pathname, '--check'], { encoding: 'utf8' })
    expect(out).toContain('matches the CSV (819 sources)')
  })
  it('no script, source or test reads a path outside the repository', () => {
    for (const dir of ['scripts', 'src', 'test'])
      for (const f of readdirSync(pkg(dir))) {
        const text = readFileSync(pkg(`${dir}/${f}`), 'utf8')
        expect(text, `${dir}/${f}`).not.toMatch(/(\.\.\/){4}|shared\/data/)
      }
  })
  it('the vendored CSV carries the attribution and licence its origin requires', () => {
    const notice = readFileSync(pkg('data/README.md'), 'utf8')
    expect(notice).toContain('ga4-source-categories.csv')
    expect(notice).toContain('Velir/dbt-ga4')
    expect(notice).toContain('Copyright (c) 2022 Adam Ribaudo')
    expect(notice).toContain('The above copyright notice and this permission notice shall be included')
  })
})
