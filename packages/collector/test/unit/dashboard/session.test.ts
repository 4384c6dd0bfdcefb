import { describe, expect, it } from 'vitest'
import { readCookie, sessionCookie } from '../../../src/dashboard/cookie.js'
import { SessionStore } from '../../../src/dashboard/sessions.js'

describe('dashboard sessions', () => {
  it('issues unguessable opaque IDs that map to the site until they expire', () => {
    let now = 1_000
    const store = new SessionStore({ ttlMs: 500 }, () => now)
    const a = store.create('site-1')
    const b = store.create('site-1')
    expect(a).not.toBe(b)
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(a).not.toContain('site-1')
    expect(store.get(a)?.siteId).toBe('site-1')
    now += 500
    expect(store.get(a)).toBeNull()
  })

  it('forgets a deleted session and bounds how many are kept', () => {
    const store = new SessionStore({ maxSessions: 2 })
    const a = store.create('s')
    store.create('s')
    store.create('s')
    expect(store.size).toBe(2)
    expect(store.get(a)).toBeNull()
    const d = store.create('s')
    store.delete(d)
    expect(store.get(d)).toBeNull()
    expect(store.get(undefined)).toBeNull()
  })

  it('writes an HttpOnly SameSite=Strict cookie, Secure only on https', () => {
    const c = sessionCookie('abc', { path: '/_cl/', secure: false, maxAge: 60 })
    expect(c).toBe('cl_dash=abc; Path=/_cl/; Max-Age=60; HttpOnly; SameSite=Strict')
    expect(sessionCookie('abc', { path: '/', secure: true, maxAge: 0 })).toMatch(/; Secure$/)
    expect(readCookie('a=1; cl_dash=xyz; b=2', 'cl_dash')).toBe('xyz')
    expect(readCookie('xcl_dash=1', 'cl_dash')).toBeUndefined()
  })
})
