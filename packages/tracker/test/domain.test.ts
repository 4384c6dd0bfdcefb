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

  it('keeps three labels under each generic second-level label of a country code, two otherwise', () => {
    for (const sld of 'co com net org gov edu ac ne or go gob ltd plc sch mil nic nom'.split(' '))
      expect(registrable(`www.example.${sld}.uk`), sld).toBe(`example.${sld}.uk`)
    for (const sld of ['c', 'cox', 'nets', 'orgs', 'gox', 'ed', 'a', 'n', 'gobs', 'example'])
      expect(registrable(`www.example.${sld}.uk`), sld).toBe(`${sld}.uk`)
    expect(registrable('www.example.co.ukx')).toBe('co.ukx')
  })
})
