import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { COMPACT_SOURCES } from '../src/sources-compact.js'
import { FULL_SOURCES } from '../src/sources-full.js'

const csv = readFileSync(new URL('../../../../shared/data/ga4-source-categories.csv', import.meta.url), 'utf8')
  .trim()
  .split(/\r?\n/)
  .slice(1)
  .map((l) => l.split(','))

describe('source lists', () => {
  it('the generated full list holds every row of the shared CSV', () => {
    expect(csv.length).toBeGreaterThan(800)
    for (const [name, cat] of csv) expect(FULL_SOURCES[name.toLowerCase()], name).toBe(cat.replace('SOURCE_CATEGORY_', ''))
    expect(Object.keys(FULL_SOURCES)).toHaveLength(new Set(csv.map(([n]) => n.toLowerCase())).size)
  })
  it('the compact script list is a subset with the same categories', () => {
    for (const [name, cat] of Object.entries(COMPACT_SOURCES)) expect(FULL_SOURCES[name], name).toBe(cat)
  })
})
