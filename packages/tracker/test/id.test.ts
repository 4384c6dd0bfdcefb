import { describe, expect, it } from 'vitest'
import { id, isId } from '../src/id.js'

describe('id', () => {
  it('makes 21-character URL-safe IDs that do not repeat', () => {
    const ids = new Set(Array.from({ length: 2000 }, id))
    expect(ids.size).toBe(2000)
    for (const v of ids) expect(v).toMatch(/^[A-Za-z0-9_-]{21}$/)
  })
  it('uses the whole 64-symbol alphabet', () => {
    const seen = new Set(Array.from({ length: 500 }, id).join(''))
    expect(seen.size).toBe(64)
  })
  it('recognises only well-formed IDs', () => {
    expect(isId(id())).toBe(true)
    for (const bad of ['', 'short', 'x'.repeat(22), '<script>alert(1)</scri', null, 5]) expect(isId(bad)).toBe(false)
  })
})
