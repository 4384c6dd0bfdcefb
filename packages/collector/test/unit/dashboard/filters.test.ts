// The shared filters in the URL hash: the journey mode round-trips, bad values fall back.
import { describe, expect, it } from 'vitest'
import { defaultQuery, queryFromParams, queryToParams } from '../../../src/dashboard/client/views/filters.js'

const defaults = defaultQuery(Date.UTC(2026, 5, 1))

describe('dashboard filters in the hash', () => {
  it('keeps a chosen journey mode and writes none for the site default', () => {
    const q = queryFromParams(new URLSearchParams('journey=account&conversion=sql'), defaults)
    expect(q).toEqual({ ...defaults, journey: 'account', conversion: 'sql' })
    expect(queryToParams(q, defaults).toString()).toBe('conversion=sql&journey=account')
    expect(queryToParams(defaults, defaults).toString()).toBe('')
  })

  it('ignores an unknown journey mode', () => {
    expect(queryFromParams(new URLSearchParams('journey=team'), defaults).journey).toBeUndefined()
  })
})
