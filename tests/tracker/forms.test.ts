// The site's forms: opt-outs, plain utm_*/click-ID inputs of form builders, the
// `forms` option, and attacker-controlled UTM values that must stay inert text.
import { describe, expect, it } from 'vitest'
import { FORM_FIELD_NAMES, attribution, formFieldNames, formValues, sleep, useTrackerSuite } from '../support/index.js'

const suite = useTrackerSuite()

describe('data-closeloop="off"', () => {
  it('leaves a marked form and a marked input alone', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/contact.html?utm_source=google&utm_medium=cpc&utm_campaign=spring'))
    const a = await attribution(page)
    await page.waitForFunction(() => (document.querySelector('#lead-form [name=cl_visitor_id]') as HTMLInputElement | null)?.value)
    expect(await formFieldNames(page, '#newsletter-form')).toEqual(['email'])
    const lead = await formValues(page, '#lead-form')
    expect(lead.cl_visitor_id).toBe(a.visitorId)
    expect(lead.cl_lt_campaign).toBe('spring')
    // The page's own value, though the last touch has another campaign.
    expect(lead.utm_campaign).toBe('contact-page')
    // Submit-time filling respects the marks as well.
    await page.fill('#newsletter-form [name=email]', 'n@example.test')
    await page.click('#newsletter-form button')
    await page.waitForSelector('#thanks')
    expect(suite.server.forms[0].entries).toEqual([['email', 'n@example.test']])
  })

  it('leaves the home page search form alone', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=google&utm_medium=cpc'))
    await attribution(page)
    await sleep(200)
    expect(await formFieldNames(page, '#search-form')).toEqual(['q'])
  })
})

describe('at submit time', () => {
  it('restores fields the page removed after they were added', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/contact.html?utm_source=google&utm_medium=cpc&utm_campaign=resubmit'))
    const a = await attribution(page)
    await page.waitForFunction(() => document.querySelector('#lead-form [name=cl_visitor_id]'))
    // A form library re-rendering its form drops inputs it does not know.
    await page.$$eval('#lead-form input[name^="cl_"]', (els) => els.forEach((e) => e.remove()))
    await page.fill('#lead-form [name=name]', 'Grace')
    await page.fill('#lead-form [name=email]', 'grace@example.test')
    await page.click('#lead-form button[type=submit]')
    await page.waitForSelector('#thanks')
    expect(Object.fromEntries(suite.server.forms[0].entries)).toMatchObject({ cl_visitor_id: a.visitorId, cl_ft_campaign: 'resubmit' })
  })
})

describe('plain utm_* and click-ID inputs (HubSpot style)', () => {
  it('are filled from the last touch, and the cl_* fields are added beside them', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/webinar.html?utm_source=Google&utm_medium=cpc&utm_campaign=webinar_june&gclid=EAIaIQ-hs'))
    const a = await attribution(page)
    await page.waitForFunction(() => (document.querySelector('#webinar-form [name=utm_source]') as HTMLInputElement).value)
    const values = await formValues(page, '#webinar-form')
    expect(values).toMatchObject({ utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'webinar_june', gclid: 'EAIaIQ-hs', cl_visitor_id: a.visitorId })
    const names = await formFieldNames(page, '#webinar-form')
    expect(names.length).toBe(new Set(names).size)
    expect(names).toEqual(expect.arrayContaining(FORM_FIELD_NAMES))
  })

  it('with data-forms="fill" only existing inputs are filled, none added', async () => {
    suite.server.tag.forms = 'fill'
    const { page } = await suite.open()
    await page.goto(suite.server.url('/webinar.html?utm_source=linkedin&utm_medium=paid_social&utm_campaign=w'))
    await attribution(page)
    await page.waitForFunction(() => (document.querySelector('#webinar-form [name=utm_source]') as HTMLInputElement).value)
    expect(await formValues(page, '#webinar-form')).toMatchObject({ utm_source: 'linkedin', utm_medium: 'paid_social', utm_campaign: 'w', gclid: '' })
    expect(await formFieldNames(page, '#webinar-form')).toEqual(['firstname', 'email', 'utm_source', 'utm_medium', 'utm_campaign', 'gclid'])
  })

  it('with data-forms="off" no form is touched', async () => {
    suite.server.tag.forms = 'off'
    const { page } = await suite.open()
    await page.goto(suite.server.url('/webinar.html?utm_source=linkedin&utm_medium=paid_social'))
    await attribution(page)
    await sleep(300)
    expect(await formValues(page, '#webinar-form')).toMatchObject({ utm_source: '', utm_medium: '' })
    expect(await formFieldNames(page, '#webinar-form')).toHaveLength(6)
  })
})

describe('hostile UTM values', () => {
  const source = '"><script>window.__pwned_source=1</script>'
  const campaign = '<img src=x onerror="window.__pwned_campaign=1">'
  const term = "'><svg onload=window.__pwned_term=1>"
  const content = '  javascript:window.__pwned_content=1  '
  const pwned = () => Object.keys(window).filter((k) => k.startsWith('__pwned'))

  it('never execute, and reach fields, storage and the page as the literal (cleaned) text', async () => {
    const { page } = await suite.open()
    const q = new URLSearchParams({ utm_source: source, utm_medium: 'Email', utm_campaign: campaign, utm_term: term, utm_content: content })
    await page.goto(suite.server.url('/contact.html?' + q.toString()))
    const a = await attribution(page)
    expect(a.firstTouch).toMatchObject({ source: source.toLowerCase(), medium: 'email', campaign, term, content: content.trim() })
    await page.waitForFunction(() => (document.querySelector('#lead-form [name=cl_ft_campaign]') as HTMLInputElement | null)?.value)
    expect(await formValues(page, '#lead-form')).toMatchObject({
      cl_ft_source: source.toLowerCase(),
      cl_ft_campaign: campaign,
      cl_ft_term: term,
      cl_ft_content: content.trim(),
      cl_lt_campaign: campaign,
    })
    // The example prints attribution with textContent: the text is there, no element was made of it.
    await page.waitForFunction(() => document.getElementById('attribution-panel')?.textContent?.includes('firstTouch'))
    expect(await page.$eval('#attribution-panel', (e) => e.childElementCount)).toBe(0)
    expect(await page.$eval('#attribution-panel', (e) => e.textContent)).toContain('onerror=\\"window.__pwned_campaign=1\\"')

    // Through the cookie and back: a reload reads the same literal values.
    await page.goto(suite.server.url('/contact.html'))
    const reread = await attribution(page)
    expect(reread.firstTouch).toEqual(a.firstTouch)

    await page.fill('#lead-form [name=name]', 'Mallory')
    await page.fill('#lead-form [name=email]', 'mallory@example.test')
    await page.click('#lead-form button[type=submit]')
    await page.waitForSelector('#thanks')
    const sent = Object.fromEntries(suite.server.forms[0].entries)
    expect(sent).toMatchObject({ cl_ft_source: source.toLowerCase(), cl_ft_campaign: campaign, cl_ft_term: term })

    expect(await page.evaluate(pwned)).toEqual([])
    // `<img src=x>` would have requested /x from this server.
    expect(suite.server.hits.filter((h) => h.endsWith('/x'))).toEqual([])
    const events = await suite.server.collect.waitForAccepted((es) => es.length >= 2 && es, 'page events')
    expect(events[0].touch).toMatchObject({ source: source.toLowerCase(), campaign })
  })

  it('are capped at 500 characters', async () => {
    const { page } = await suite.open()
    const long = 'x'.repeat(480) + campaign.repeat(3)
    await page.goto(suite.server.url('/contact.html?' + new URLSearchParams({ utm_source: 'mail', utm_medium: 'email', utm_campaign: long })))
    const a = await attribution(page)
    expect(a.firstTouch?.campaign).toBe(long.slice(0, 500))
    await page.waitForFunction(() => (document.querySelector('#lead-form [name=cl_ft_campaign]') as HTMLInputElement | null)?.value)
    expect((await formValues(page, '#lead-form')).cl_ft_campaign).toBe(long.slice(0, 500))
    const cookies = await page.context().cookies()
    const total = cookies.filter((c) => c.name.startsWith('_cl')).reduce((n, c) => n + c.name.length + c.value.length, 0)
    expect(total).toBeLessThan(2048)
    expect(await page.evaluate(pwned)).toEqual([])
  })
})
