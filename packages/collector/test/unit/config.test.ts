import { describe, expect, it } from 'vitest'
import { DEFAULTS, loadConfig, normalizeBasePath } from '../../src/config.js'
import { truncateIp } from '../../src/http/ip.js'
import { generateSecretKey, isPublicKey, secretKeyId, verifySecretKey, generatePublicKey } from '../../src/sites/keys.js'
import { RateLimiter } from '../../src/http/rate-limit.js'

describe('config', () => {
  it('takes flags over CLOSELOOP_* variables over defaults', () => {
    const env = { CLOSELOOP_PORT: '9000', CLOSELOOP_HOST: '0.0.0.0', CLOSELOOP_DATA: '/env', CLOSELOOP_BASE_PATH: '/_cl/' }
    expect(loadConfig({}, {})).toMatchObject({ port: DEFAULTS.port, host: '127.0.0.1', dataDir: './closeloop-data', basePath: '' })
    expect(loadConfig({}, env)).toMatchObject({ port: 9000, host: '0.0.0.0', dataDir: '/env', basePath: '/_cl' })
    expect(loadConfig({ port: '9100', data: '/flag' }, env)).toMatchObject({ port: 9100, dataDir: '/flag', host: '0.0.0.0' })
    expect(loadConfig({}, { CLOSELOOP_RATE_IP_PER_SECOND: '7' }).rateLimit.ipPerSecond).toBe(7)
    expect(loadConfig({}, {})).toMatchObject({ publicUrl: null, crmSyncMinutes: 15 })
    expect(loadConfig({ 'crm-sync-minutes': '0' }, { CLOSELOOP_PUBLIC_URL: 'https://cl.example.com/_cl/', CLOSELOOP_CRM_SYNC_MINUTES: '5' }))
      .toMatchObject({ publicUrl: 'https://cl.example.com/_cl', crmSyncMinutes: 0 })
    expect(loadConfig({}, {}).reportBudgetMs).toBe(10_000)
    expect(loadConfig({}, { CLOSELOOP_REPORT_BUDGET_MS: '2500' }).reportBudgetMs).toBe(2500)
    expect(loadConfig({ 'report-budget-ms': '800' }, { CLOSELOOP_REPORT_BUDGET_MS: '2500' }).reportBudgetMs).toBe(800)
    expect(loadConfig({}, {}).deliveryClaimSeconds).toBe(300)
    expect(loadConfig({}, { CLOSELOOP_DELIVERY_CLAIM_SECONDS: '20' }).deliveryClaimSeconds).toBe(20)
  })

  it('rejects bad values with a coded error', () => {
    expect(() => loadConfig({ port: 'eighty' }, {})).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CONFIG' }))
    expect(() => loadConfig({ port: '70000' }, {})).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CONFIG' }))
    expect(() => loadConfig({ 'public-url': 'cl.example.com' }, {})).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CONFIG' }))
    expect(() => loadConfig({ 'crm-sync-minutes': '-1' }, {})).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CONFIG' }))
    for (const bad of ['0', '1.5', 'soon']) expect(() => loadConfig({ 'report-budget-ms': bad }, {})).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CONFIG' }))
    for (const bad of ['0', '-5', '2.5']) expect(() => loadConfig({}, { CLOSELOOP_DELIVERY_CLAIM_SECONDS: bad })).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CONFIG' }))
    expect(() => normalizeBasePath('/a b')).toThrow()
    expect(() => normalizeBasePath('//evil.example')).toThrow()
  })
})

describe('keys', () => {
  it('generates keys in the documented shapes and verifies secrets in constant time', () => {
    const pk = generatePublicKey()
    expect(pk).toMatch(/^pk_[A-Za-z0-9_-]{21}$/)
    expect(isPublicKey(pk)).toBe(true)
    const sk = generateSecretKey()
    expect(sk.key).toMatch(/^sk_[A-Za-z0-9_-]{40}$/)
    expect(secretKeyId(sk.key)).toBe(sk.keyId)
    expect(sk.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(sk.hash).not.toContain(sk.key.slice(11))
    expect(verifySecretKey(sk.key, sk.hash)).toBe(true)
    expect(verifySecretKey(sk.key + 'x', sk.hash)).toBe(false)
    expect(verifySecretKey(sk.key, 'abc')).toBe(false)
    expect(secretKeyId('sk_short')).toBeNull()
  })
})

describe('truncateIp', () => {
  it('never keeps a whole address', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0')
    expect(truncateIp('::ffff:203.0.113.77')).toBe('203.0.113.0')
    expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::')
    expect(truncateIp('::1')).toBe('0:0:0::')
    expect(truncateIp('garbage')).toBe('')
  })
})

describe('RateLimiter', () => {
  it('refills over time and reports the wait', () => {
    let now = 0
    const limiter = new RateLimiter({ perSecond: 2, burst: 2 }, () => now)
    expect([limiter.take('a'), limiter.take('a')]).toEqual([0, 0])
    expect(limiter.take('a')).toBe(1)
    expect(limiter.take('b')).toBe(0)
    now = 500
    expect(limiter.take('a')).toBe(0)
  })
})
