import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { AttributionError } from '../../src/attribution/errors.js'
import { asClError, ClError, clError, ERRORS, toClError } from '../../src/errors.js'

const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8')

describe('error registry', () => {
  const defs = Object.values(ERRORS)

  it('has unique, well-formed codes', () => {
    const codes = defs.map((d) => d.code)
    expect(new Set(codes).size).toBe(codes.length)
    for (const code of codes) expect(code).toMatch(/^CL_ERR_[A-Z_]+$/)
  })

  it('documents every code in docs/errors.md', () => {
    const missing = defs.filter((d) => !docs.includes(`\`${d.code}\``)).map((d) => d.code)
    expect(missing).toEqual([])
  })

  it('documents no code that does not exist', () => {
    const documented = new Set(docs.match(/CL_ERR_[A-Z_]+/g) ?? [])
    const known = new Set(defs.map((d) => d.code))
    expect([...documented].filter((c) => !known.has(c as (typeof defs)[number]['code']))).toEqual([])
  })

  it('uses client-error statuses for client errors', () => {
    for (const d of defs) expect(d.status).toBeGreaterThanOrEqual(400)
    expect(ERRORS.INTERNAL.status).toBe(500)
  })

  it('maps Fastify and unknown errors to coded errors without leaking their text', () => {
    expect(toClError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).code).toBe('CL_ERR_BODY_TOO_LARGE')
    expect(toClError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 })).code).toBe('CL_ERR_UNSUPPORTED_MEDIA_TYPE')
    const internal = toClError(new Error('SQLITE_CORRUPT: secret path /var/db'))
    expect(internal.code).toBe('CL_ERR_INTERNAL')
    expect(internal.message).not.toContain('SQLITE')
    const own = clError('RATE_LIMITED')
    expect(toClError(own)).toBe(own)
    expect(own).toBeInstanceOf(ClError)
  })

  it('maps the attribution engine\'s errors to coded client errors with the engine\'s message', () => {
    const cases = [
      [new AttributionError('invalid_option', 'unknown model "x"'), 'CL_ERR_VALIDATION', 400],
      [new AttributionError('too_complex', 'markov: 5000 states form one cycle'), 'CL_ERR_REPORT_TOO_COMPLEX', 422],
      [new AttributionError('internal', 'no touch objects'), 'CL_ERR_INTERNAL', 500],
    ] as const
    for (const [err, code, status] of cases) {
      expect(toClError(err)).toMatchObject({ code, status, message: err.message })
      expect(asClError(err)).toMatchObject({ code, status, message: err.message })
    }
    expect(asClError(new Error('plain'))).toBeUndefined()
  })
})
