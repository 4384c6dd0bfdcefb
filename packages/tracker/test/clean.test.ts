import { describe, expect, it } from 'vitest'
import { MAX_LEN, clean } from '../src/clean.js'

describe('clean', () => {
  it('trims, caps at 500 characters and lower-cases on request', () => {
    expect(clean('  Spring Sale  ')).toBe('Spring Sale')
    expect(clean('  GoOgle ', true)).toBe('google')
    expect(clean('x'.repeat(10_000))).toHaveLength(MAX_LEN)
    expect(MAX_LEN).toBe(500)
  })
  it('turns null/undefined/non-strings into strings', () => {
    expect(clean(null)).toBe('')
    expect(clean(undefined)).toBe('')
    expect(clean(42)).toBe('42')
  })
  it('keeps markup as literal text', () => {
    expect(clean('"><img src=x onerror=alert(1)>')).toBe('"><img src=x onerror=alert(1)>')
  })
})

describe('malformed %-encodings', () => {
  it('URLSearchParams decoding (used for URLs and cookies) never throws', () => {
    for (const bad of ['%', '%E0%A4%A', '%zz', '100%', '%ff', '%%%'])
      expect(() => clean(new URLSearchParams('v=' + bad).get('v'))).not.toThrow()
    expect(new URLSearchParams('v=%E0%A4%A').get('v')).toBe('\ufffd%A')
  })
})
