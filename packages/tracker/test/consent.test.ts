import { afterEach, describe, expect, it, vi } from 'vitest'
import { initialConsent } from '../src/consent.js'
import { browser } from './helpers.js'

afterEach(() => vi.unstubAllGlobals())

describe('initialConsent', () => {
  it('takes the configured state; anything unknown is granted', () => {
    browser()
    expect(initialConsent('pending', true)).toBe('pending')
    expect(initialConsent('denied', true)).toBe('denied')
    expect(initialConsent('granted', true)).toBe('granted')
    expect(initialConsent('yes', true)).toBe('granted')
  })
  it('Global Privacy Control means denied unless respect-gpc is off', () => {
    browser('https://www.example.com/', { gpc: true })
    expect(initialConsent('granted', true)).toBe('denied')
    expect(initialConsent('pending', false)).toBe('pending')
  })
})
