import { describe, expect, it } from 'vitest'
import { isBotUserAgent } from '../../../src/http/bots.js'

const CHROME = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

describe('isBotUserAgent', () => {
  it('tells crawlers from browsers, and a missing user agent is not a bot', () => {
    expect(isBotUserAgent(GOOGLEBOT)).toBe(true)
    expect(isBotUserAgent('curl/8.5.0')).toBe(true)
    expect(isBotUserAgent(CHROME)).toBe(false)
    expect(isBotUserAgent(undefined)).toBe(false)
    expect(isBotUserAgent('')).toBe(false)
  })

  it('gives the same verdicts when remembered, and past the memo bound', () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5_000; i++) {
        expect(isBotUserAgent(`${CHROME} v${i}`)).toBe(false)
        if (i % 500 === 0) expect(isBotUserAgent(`${GOOGLEBOT} v${i}`)).toBe(true)
      }
    }
  })
})
