import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { formFields } from '../src/forms.js'
import { createTracker, type Options } from '../src/index.js'
import { browser } from './helpers.js'

beforeEach(() => vi.useFakeTimers({ now: 1767225600000 }))
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

const FIELDS = [
  'cl_visitor_id', 'cl_session_id',
  ...['ft', 'lt'].flatMap((p) =>
    ['source', 'medium', 'campaign', 'term', 'content', 'channel', 'click_id', 'click_id_type', 'landing', 'referrer', 'ts'].map((k) => `cl_${p}_${k}`),
  ),
]
const start = (o: Partial<Options> = {}) => createTracker({ site: 'pk_x', collector: 'https://t.example.com', ...o })
const values = (form: HTMLFormElement) => Object.fromEntries(new (form.ownerDocument.defaultView as any).FormData(form)) as Record<string, string>

describe('formFields', () => {
  it('is exactly the documented field list', () => {
    const f = formFields({ vid: 'v', sid: 's', last: 0, ft: null, lt: null })
    expect(Object.keys(f).map((k) => 'cl_' + k)).toEqual(FIELDS)
  })
})

describe('forms=auto', () => {
  it('adds every field as a hidden input, filled from first and last touch', () => {
    const b = browser('https://www.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=G1', {
      html: '<form id=f><input name=email></form>',
    })
    const cl = start()
    const form = b.window.document.getElementById('f') as HTMLFormElement
    const v = values(form)
    expect(Object.keys(v)).toEqual(['email', ...FIELDS])
    const a = cl.attribution()
    expect(v.cl_visitor_id).toBe(a.visitorId)
    expect(v.cl_session_id).toBe(a.sessionId)
    expect([v.cl_ft_source, v.cl_ft_medium, v.cl_ft_campaign, v.cl_ft_channel, v.cl_ft_click_id, v.cl_ft_click_id_type]).toEqual([
      'google', 'cpc', 'spring', 'Paid Search', 'G1', 'gclid',
    ])
    expect(v.cl_lt_ts).toBe('2026-01-01T00:00:00.000Z')
    expect(v.cl_ft_landing).toBe('https://www.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=G1')
    for (const el of form.querySelectorAll('input[name^=cl_]')) expect((el as HTMLInputElement).type).toBe('hidden')
  })

  it('fills existing inputs instead of duplicating them, and plain utm_/click-ID inputs from the last touch', () => {
    const b = browser('https://www.example.com/?utm_source=Bing&utm_medium=cpc&utm_term=shoes&msclkid=M1', {
      html: `<form id=f>
        <input type=hidden name=cl_ft_source value=old>
        <input name=utm_source><input name=utm_medium><input name=utm_term><input name=utm_campaign value=keep>
        <input name=msclkid><input name=gclid value=untouched>
      </form>`,
    })
    start()
    const form = b.window.document.getElementById('f') as HTMLFormElement
    expect(form.querySelectorAll('[name=cl_ft_source]')).toHaveLength(1)
    const v = values(form)
    expect([v.cl_ft_source, v.utm_source, v.utm_medium, v.utm_term, v.utm_campaign, v.msclkid, v.gclid]).toEqual([
      'bing', 'bing', 'cpc', 'shoes', 'keep', 'M1', 'untouched',
    ])
  })

  it('leaves data-closeloop="off" forms and inputs alone', () => {
    const b = browser('https://www.example.com/?utm_source=x', {
      html: '<form id=a data-closeloop=off><input name=utm_source></form><form id=b><input name=cl_ft_source data-closeloop=off value=mine></form>',
    })
    start()
    const d = b.window.document
    expect(values(d.getElementById('a') as HTMLFormElement)).toEqual({ utm_source: '' })
    expect(values(d.getElementById('b') as HTMLFormElement).cl_ft_source).toBe('mine')
  })

  it('fills forms added later (MutationObserver) and again at submit', async () => {
    const b = browser('https://www.example.com/?utm_source=later', { html: '<div id=host></div>' })
    start()
    const d = b.window.document
    d.getElementById('host')!.innerHTML = '<div><form id=late><input name=utm_source></form></div>'
    await vi.advanceTimersByTimeAsync(0)
    const late = d.getElementById('late') as HTMLFormElement
    expect(values(late).cl_ft_source).toBe('later')
    expect(values(late).utm_source).toBe('later')
    ;(late.elements.namedItem('cl_ft_source') as HTMLInputElement).value = 'tampered'
    let seen = ''
    late.addEventListener('submit', (e) => {
      seen = (late.elements.namedItem('cl_ft_source') as HTMLInputElement).value
      e.preventDefault()
    })
    late.requestSubmit()
    expect(seen).toBe('later')
  })

  it('fills a form added later once per batch of changes, not once per input added to it', async () => {
    const b = browser('https://www.example.com/?utm_source=later', { html: '<div id=host></div>' })
    start()
    const d = b.window.document
    await vi.advanceTimersByTimeAsync(0)
    // Every fill of a form reads its controls once: count the reads.
    const proto = b.window.HTMLFormElement.prototype
    const elements = Object.getOwnPropertyDescriptor(proto, 'elements')!
    let reads = 0
    Object.defineProperty(proto, 'elements', { configurable: true, get() { reads++; return elements.get!.call(this) } })
    d.getElementById('host')!.innerHTML = '<form id=late><input name=email></form>'
    await vi.advanceTimersByTimeAsync(0)
    // The form's own arrival, then the batch of the 24 inputs the first fill added.
    expect(reads).toBe(2)
    expect(values(d.getElementById('late') as HTMLFormElement).cl_ft_source).toBe('later')
    Object.defineProperty(proto, 'elements', elements)
  })

  it('waits for DOMContentLoaded so inputs written in the HTML are found', () => {
    const b = browser('https://www.example.com/?utm_source=x', { html: '<form id=f></form>' })
    Object.defineProperty(b.window.document, 'readyState', { value: 'loading', configurable: true })
    start({ forms: 'fill' })
    const f = b.window.document.getElementById('f')!
    f.innerHTML = '<input type=hidden name=cl_ft_source>'
    expect((f.firstChild as HTMLInputElement).value).toBe('')
    b.window.document.dispatchEvent(new b.window.Event('DOMContentLoaded'))
    expect((f.firstChild as HTMLInputElement).value).toBe('x')
  })

  it('writes hostile values as literal text: nothing parses or executes', () => {
    const payload = '"><img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    const b = browser('https://www.example.com/?utm_source=' + encodeURIComponent(payload) + '&utm_campaign=' + encodeURIComponent(payload), {
      html: '<form id=f><input name=utm_campaign></form>',
    })
    start()
    const f = b.window.document.getElementById('f') as HTMLFormElement
    expect(values(f).cl_ft_campaign).toBe(payload)
    expect(values(f).utm_campaign).toBe(payload)
    expect(f.querySelectorAll('img,script')).toHaveLength(0)
    expect((b.window as any).pwned).toBeUndefined()
  })
})

describe('other modes', () => {
  it('forms=fill fills existing inputs only; field-prefix renames ours', () => {
    const b = browser('https://www.example.com/?utm_source=x', { html: '<form id=f><input name=attr_ft_source></form>' })
    start({ forms: 'fill', fieldPrefix: 'attr_' })
    expect(values(b.window.document.getElementById('f') as HTMLFormElement)).toEqual({ attr_ft_source: 'x' })
  })

  it('forms=off and consent pending leave forms untouched; fillForms(root) fills one subtree on demand', () => {
    const b = browser('https://www.example.com/?utm_source=x', { html: '<form id=f></form><section id=s><form id=g></form></section>' })
    const off = start({ forms: 'off' })
    const d = b.window.document
    expect(d.querySelectorAll('input')).toHaveLength(0)
    off.fillForms()
    expect(d.querySelectorAll('input')).toHaveLength(0)
    const pending = start({ consent: 'pending' })
    expect(d.querySelectorAll('input')).toHaveLength(0)
    pending.consent('granted')
    expect(d.querySelectorAll('#f input')).toHaveLength(FIELDS.length)
  })
})
