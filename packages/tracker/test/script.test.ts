// Runs the BUILT script (dist/closeloop.js) as a real <script src> in jsdom: data-* options,
// document.currentScript origin as collector, the stub queue, and window.closeloop(method, …).
import { existsSync, readFileSync } from 'node:fs'
import { JSDOM, ResourceLoader, VirtualConsole } from 'jsdom'
import { describe, expect, it } from 'vitest'

const BUNDLE = new URL('../dist/closeloop.js', import.meta.url)
if (!existsSync(BUNDLE)) throw new Error('dist/closeloop.js is missing: run `pnpm build` before the tests')
const code = readFileSync(BUNDLE)

class Loader extends ResourceLoader {
  override fetch(url: string) {
    if (url == 'https://t.example.com/closeloop.js') return Promise.resolve(code) as never
    return null
  }
}

async function page(url: string, tag: string, before = '') {
  const errors: unknown[] = []
  const vc = new VirtualConsole()
  vc.on('jsdomError', (e) => errors.push(e))
  const sent: Array<{ url: string; body: any }> = []
  const dom = new JSDOM(`<!doctype html><html><head>${before}${tag}</head><body><form id=f><input name=utm_source></form></body></html>`, {
    url,
    runScripts: 'dangerously',
    resources: new Loader(),
    virtualConsole: vc,
    beforeParse(w: any) {
      w.fetch = async (u: string, init: RequestInit) => {
        sent.push({ url: u, body: JSON.parse(init.body as string) })
        return { ok: true, status: 200 }
      }
      w.navigator.sendBeacon = (u: string, body: string) => (sent.push({ url: u, body: JSON.parse(body) }), true)
    },
  })
  await new Promise((r) => dom.window.addEventListener('load', r))
  await new Promise((r) => setTimeout(r, 400))
  return { dom, w: dom.window as any, sent, errors }
}

const TAG = '<script async src="https://t.example.com/closeloop.js" data-site="pk_test"></script>'
const STUB = '<script>window.closeloop=window.closeloop||function(){(closeloop.q=closeloop.q||[]).push(arguments)}</script>'

describe('dist/closeloop.js', () => {
  it('tracks the page, posts to the script origin and fills forms', async () => {
    const { w, sent, errors } = await page('https://www.example.com/?utm_source=Newsletter&utm_medium=email', TAG)
    expect(errors).toEqual([])
    expect(sent[0].url).toBe('https://t.example.com/v1/collect')
    expect(sent[0].body.site).toBe('pk_test')
    expect(sent[0].body.events[0].touch).toMatchObject({ source: 'newsletter', medium: 'email', channel: 'Email' })
    const a = w.closeloop('attribution')
    expect(a.firstTouch.source).toBe('newsletter')
    expect(w.document.cookie).toContain('_cl_vid=' + a.visitorId)
    const form = w.document.getElementById('f')
    expect(form.elements.namedItem('cl_visitor_id').value).toBe(a.visitorId)
    expect(form.elements.namedItem('utm_source').value).toBe('newsletter')
  })

  it("sends Meta's _fbp cookie on the touch", async () => {
    const pixel = "<script>document.cookie='_fbp=fb.1.1767225500000.1234567890;path=/'</script>"
    const { sent, errors } = await page('https://www.example.com/?fbclid=IwAR1abc', TAG, pixel)
    expect(errors).toEqual([])
    expect(sent[0].body.events[0].touch).toMatchObject({ click_id: 'IwAR1abc', fbp: 'fb.1.1767225500000.1234567890' })
  })

  it('replays stub calls in order and returns method results', async () => {
    const calls = `<script>closeloop('track','early',{n:1});closeloop('identify',{email:'a@b.c'})</script>`
    const { w, sent } = await page('https://www.example.com/', TAG, STUB + calls)
    const types = sent.flatMap((s) => s.body.events).map((e: any) => e.type + (e.name ? ':' + e.name : ''))
    expect(types).toEqual(['page', 'track:early', 'identify'])
    expect(w.closeloop('decorate', 'https://b.example/')).toMatch(/^https:\/\/b\.example\/\?_clv=[\w-]{21}$/)
    expect(w.closeloop('nope')).toBeUndefined()
  })

  it('honours data-* options: collector path, consent, forms, field prefix', async () => {
    const tag = '<script src="https://t.example.com/closeloop.js" data-site="pk_test" data-collector="/_cl" data-consent="pending" data-forms="auto" data-field-prefix="x_"></script>'
    const { w, sent } = await page('https://www.example.com/', tag)
    expect(sent).toEqual([])
    expect(w.document.cookie).toBe('')
    w.closeloop('consent', 'granted')
    await new Promise((r) => setTimeout(r, 50))
    expect(sent[0].url).toBe('/_cl/v1/collect')
    expect(w.document.getElementById('f').elements.namedItem('x_visitor_id').value).toMatch(/^[\w-]{21}$/)
  })

  it('hostile input never throws into the page', async () => {
    const q = 'utm_source=%3Cscript%3E&utm_campaign=%E0%A4%A&x=' + 'y'.repeat(10_000)
    const { w, errors } = await page('https://www.example.com/?' + q, TAG)
    w.document.cookie = '_cl_ft=%%%; path=/'
    expect(errors).toEqual([])
    expect(() => w.closeloop('fillForms', 'not a node')).not.toThrow()
    expect(() => w.closeloop('identify')).not.toThrow()
    expect(w.closeloop('attribution').firstTouch.source).toBe('<script>')
  })
})
