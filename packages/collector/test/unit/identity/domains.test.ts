import { describe, expect, it } from 'vitest'
import { accountDomain, registrableDomain } from '../../../src/identity/domains.js'
import { isFreeMail } from '../../../src/identity/free-mail.js'
import { companyAccount, domainAccount, nextAccount, normalizeCompany } from '../../../src/store/accounts.js'

describe('account domain of an e-mail', () => {
  it('is the registrable domain, country second-level suffixes included', () => {
    expect(accountDomain('ann@mail.eu.acme.com')).toBe('acme.com')
    expect(accountDomain('ann@sales.acme.co.uk')).toBe('acme.co.uk')
    expect(accountDomain('ann@acme.com.au')).toBe('acme.com.au')
    expect(registrableDomain('Shop.Example.DE.')).toBe('example.de')
  })
  it('is null for free mail, under any country variant, and for address literals', () => {
    for (const e of ['a@gmail.com', 'a@googlemail.com', 'a@yahoo.co.uk', 'a@mail.yahoo.com', 'a@hotmail.fr', 'a@outlook.com.br', 'a@live.de',
      'a@gmx.net', 'a@gmx.de', 'a@yandex.ru', 'a@icloud.com', 'a@proton.me', 'a@pm.me', 'a@qq.com', 'a@163.com', 'a@web.de', 'a@mail.ru', 'a@hey.com']) {
      expect(accountDomain(e), e).toBeNull()
    }
    expect(accountDomain('a@[10.0.0.1]')).toBeNull()
    expect(isFreeMail('acme.com')).toBe(false)
    expect(isFreeMail('gmail.co')).toBe(false)
  })
})

describe('account rules', () => {
  const site = 's1'
  it('normalises company names and derives stable IDs per site', () => {
    expect(normalizeCompany('  ACME\u00a0  Inc ')).toBe('acme inc')
    expect(companyAccount(site, 'Acme Inc').id).toBe(companyAccount(site, 'acme  inc').id)
    expect(companyAccount(site, 'Acme Inc').id).not.toBe(companyAccount('s2', 'Acme Inc').id)
    expect(companyAccount(site, 'acme.com').id).not.toBe(domainAccount(site, 'acme.com').id)
  })
  it('company wins; a CRM company is kept against a domain; no change is null', () => {
    const crm = { id: companyAccount(site, 'A').id, source: 'crm' as const }
    const dom = { id: domainAccount(site, 'a.com').id, source: 'domain' as const }
    expect(nextAccount(site, null, { company: 'B', accountDomain: 'a.com' })?.id).toBe(companyAccount(site, 'B').id)
    expect(nextAccount(site, null, { accountDomain: 'a.com' })?.id).toBe(dom.id)
    expect(nextAccount(site, crm, { accountDomain: 'b.com' })).toBeNull()
    expect(nextAccount(site, dom, { accountDomain: 'b.com' })?.id).toBe(domainAccount(site, 'b.com').id)
    expect(nextAccount(site, crm, { company: ' a ' })).toBeNull()
    expect(nextAccount(site, crm, { company: '  ', accountDomain: null })).toBeNull()
  })
})
