import { describe, expect, it } from 'vitest'
import { registrable } from '../src/domain.js'

describe('registrable', () => {
  it.each([
    ['www.example.com', 'example.com'],
    ['a.b.example.com', 'example.com'],
    ['example.com', 'example.com'],
    ['shop.example.co.uk', 'example.co.uk'],
    ['www.google.co.uk', 'google.co.uk'],
    ['news.example.com.au', 'example.com.au'],
    ['search.yahoo.co.jp', 'yahoo.co.jp'],
    ['x.biglobe.ne.jp', 'biglobe.ne.jp'],
    ['t.co', 't.co'],
    ['lnkd.in', 'lnkd.in'],
    ['WWW.Example.COM.', 'example.com'],
    ['.partner-shop.co.uk', 'partner-shop.co.uk'],
    ['.intranet', 'intranet'],
    ['localhost', 'localhost'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '[::1]'],
  ])('%s → %s', (host, want) => expect(registrable(host)).toBe(want))
})
