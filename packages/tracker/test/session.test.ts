import { describe, expect, it } from 'vitest'
import { advance } from '../src/session.js'
import type { State } from '../src/storage.js'
import type { Touch } from '../src/touch.js'

const T = (source: string, ts = 1): Touch => ({ ts, source, medium: source == '(direct)' ? '(none)' : 'cpc', channel: 'x' })
const empty = (): State => ({ vid: 'v', sid: '', last: 0, ft: null, lt: null })
const MIN30 = 30 * 60_000

describe('advance', () => {
  it('first visit: the touch becomes first and last touch and opens a session', () => {
    const st = empty()
    expect(advance(st, T('google'), () => T('(direct)'), 1000, MIN30)!.source).toBe('google')
    expect([st.ft!.source, st.lt!.source, st.last]).toEqual(['google', 'google', 1000])
    expect(st.sid).toMatch(/^[\w-]{21}$/)
  })
  it('rule 4: no touch inside a session; rule 3: direct touch after the timeout, never overwriting last touch', () => {
    const st = empty()
    advance(st, T('google'), () => T('(direct)'), 0, MIN30)
    const sid = st.sid
    expect(advance(st, null, () => T('(direct)'), MIN30, MIN30)).toBeNull()
    expect(st.sid).toBe(sid)
    const d = advance(st, null, () => T('(direct)'), 2 * MIN30 + 1, MIN30)
    expect(d!.source).toBe('(direct)')
    expect(st.sid).not.toBe(sid)
    expect([st.ft!.source, st.lt!.source]).toEqual(['google', 'google'])
  })
  it('an all-direct history keeps the direct touch as last touch; a new source replaces it and ft stays', () => {
    const st = empty()
    advance(st, null, () => T('(direct)'), 0, MIN30)
    expect(st.lt!.source).toBe('(direct)')
    advance(st, T('bing'), () => T('(direct)'), 10, MIN30)
    expect([st.ft!.source, st.lt!.source]).toEqual(['(direct)', 'bing'])
  })
  it('the same touch again within the session is not new; after the timeout it is', () => {
    const st = empty()
    advance(st, T('google'), () => T('(direct)'), 0, MIN30)
    const sid = st.sid
    expect(advance(st, T('google', 5), () => T('(direct)'), 5, MIN30)).toBeNull()
    expect(st.sid).toBe(sid)
    expect(advance(st, T('google', 9), () => T('(direct)'), 5 + MIN30 + 1, MIN30)).not.toBeNull()
  })
})
