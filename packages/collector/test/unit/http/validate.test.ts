import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { money } from '../../../src/outcomes/schemas.js'
import { describeIssue } from '../../../src/http/validate.js'

const first = (schema: z.ZodType, value: unknown): string => {
  const r = schema.safeParse(value, { reportInput: true })
  if (r.success) throw new Error('parsed')
  return describeIssue(r.error)
}

describe('describeIssue', () => {
  const deal = z.object({ deal: z.object({ amount: money }) })

  it("names the complaint of the union's alternative that took the value's type", () => {
    expect(first(deal, { deal: { amount: 'abc' } })).toBe('deal.amount: not a number')
  })

  it('names the types a value of none of them was expected to have', () => {
    expect(first(deal, { deal: { amount: true } })).toBe('deal.amount: expected number or string')
    expect(first(deal, { deal: {} })).toBe('deal.amount: expected number or string')
  })

  it('keeps the path inside an alternative, and plain issues as they are', () => {
    const either = z.object({ at: z.union([z.number(), z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'not a day') })]) })
    expect(first(either, { at: { day: 'monday' } })).toBe('at.day: not a day')
    expect(first(deal, { deal: { amount: -5 } })).toBe('deal.amount: must be a number from 0 to 1e13')
  })

  it('suggests the near value of a mistyped enum, echoing only allowed values', () => {
    const q = z.object({ model: z.enum(['first_touch', 'linear', 'markov']) })
    expect(first(q, { model: 'linaer' })).toBe('model: Invalid option: expected one of "first_touch"|"linear"|"markov"; did you mean "linear"?')
    expect(first(q, { model: '<script>' })).toBe('model: Invalid option: expected one of "first_touch"|"linear"|"markov"')
    expect(first(q, { model: 3 })).toBe('model: Invalid option: expected one of "first_touch"|"linear"|"markov"')
  })

  it('names up to three offending fields, each once, in the order of the schema', () => {
    const row = z.object({ a: z.number(), b: z.number(), c: z.number().min(1).max(0), d: z.number() })
    // c fails twice (min and max): named once, with its first complaint.
    expect(first(row, { a: 'x', b: 1, c: 0.5, d: 'y' })).toBe('a: Invalid input: expected number, received string; c: Too small: expected number to be >=1; d: Invalid input: expected number, received string')
    expect(first(row, { a: 'x', b: 'x', c: 'x', d: 'x' }).split('; ').map((p) => p.split(':')[0])).toEqual(['a', 'b', 'c'])
  })
})
