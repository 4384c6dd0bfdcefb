// Dashboard entry: checks the session, then shows sign-in or the app. Views are chosen by the
// URL hash so the server serves one page and the back button works.

import { ApiError, api } from './api.js'
import { h, replace } from './dom.js'
import type { ReportQuery, SessionInfo } from './types.js'
import { chartView } from './views/chart.js'
import { filtersView, queryFromParams, queryToParams } from './views/filters.js'
import { byOf, funnelView } from './views/funnel.js'
import { journeyView } from './views/journey.js'
import { accountView } from './views/account.js'
import { modelsView } from './views/models.js'
import { overviewView } from './views/overview.js'
import { qualityView } from './views/quality.js'
import { destinationsView } from './views/destinations.js'
import { signInView } from './views/signin.js'

const VIEWS = [
  ['overview', 'Overview'],
  ['trend', 'Revenue over time'],
  ['models', 'Models side by side'],
  ['funnel', 'Funnel'],
  ['journey', 'Lead journey'],
  ['quality', 'Data quality'],
  ['destinations', 'Ad platforms'],
] as const
type NavView = (typeof VIEWS)[number][0]
/** Views reached by links inside other views, not from the nav. */
const LINKED = [['account', 'Account']] as const
const PAGES = [...VIEWS, ...LINKED]
type ViewName = NavView | (typeof LINKED)[number][0]

const app = document.getElementById('app') as HTMLElement
let period: 'week' | 'month' = 'week'
let renderSeq = 0

/** `#view[/id][?query]`: the view, the journey's lead, the account or the funnel's grouping, and the shared report query. */
function parseHash(): { view: ViewName; id: string; query: ReportQuery } {
  const raw = location.hash.slice(1)
  const cut = raw.indexOf('?')
  const [name, id] = (cut < 0 ? raw : raw.slice(0, cut)).split('/')
  const view = PAGES.some(([v]) => v === name) ? name as ViewName : 'overview'
  return { view, id: decodeURIComponent(id ?? ''), query: queryFromParams(new URLSearchParams(cut < 0 ? '' : raw.slice(cut + 1))) }
}

function hashFor(view: ViewName, id: string, q: ReportQuery): string {
  const params = queryToParams(q).toString()
  return `#${view}${id ? `/${encodeURIComponent(id)}` : ''}${params ? `?${params}` : ''}`
}

function showSignIn(): void {
  document.title = 'Sign in · Closeloop'
  replace(app, signInView(showApp))
}

function showApp(session: SessionInfo): void {
  const nav = h('nav', { 'aria-label': 'Views' }, h('ul', null, VIEWS.map(([id, label]) => h('li', null, h('a', { href: `#${id}`, 'data-view': id }, label)))))
  const signOut = h('button', { type: 'button', id: 'sign-out' }, 'Sign out')
  signOut.addEventListener('click', async () => {
    try { await api.signOut() } finally { showSignIn() }
  })
  const filterSlot = h('div', { class: 'filter-slot' })
  const view = h('section', { id: 'view', 'aria-live': 'polite', 'aria-busy': 'false' })
  replace(app,
    h('header', null, h('h1', null, 'Closeloop'), h('p', { class: 'site', 'data-field': 'site' }, session.site.name), signOut),
    nav,
    h('main', { id: 'main' }, filterSlot, view))

  const render = async () => {
    const seq = ++renderSeq
    const { view: name, id, query } = parseHash()
    document.title = `${PAGES.find(([v]) => v === name)?.[1] ?? ''} · Closeloop`
    nav.querySelectorAll('a').forEach((a) => {
      // Moving between views keeps the query.
      a.setAttribute('href', hashFor(a.dataset.view as NavView, '', query))
      if (a.dataset.view === name) a.setAttribute('aria-current', 'page')
      else a.removeAttribute('aria-current')
    })
    replace(filterSlot, name === 'journey' || name === 'account' || name === 'destinations' ? null : filtersView(query, (q) => { location.hash = hashFor(name, id, q) }))
    view.setAttribute('aria-busy', 'true')
    const target = h('div')
    try {
      if (name === 'overview') await overviewView(target, query)
      else if (name === 'trend') await chartView(target, query, period, (p) => { period = p; void render() })
      else if (name === 'models') await modelsView(target, query)
      else if (name === 'funnel') await funnelView(target, query, byOf(id), (by) => { location.hash = hashFor(name, by === 'channel' ? '' : by, query) })
      else if (name === 'quality') await qualityView(target, query)
      else if (name === 'destinations') await destinationsView(target)
      else if (name === 'account') await accountView(target, session.site.currency, id)
      else await journeyView(target, session.site.currency, id)
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return showSignIn()
      replace(target, h('p', { class: 'error', role: 'alert' }, `Could not load this view: ${(err as Error).message}`))
    }
    // A newer render (the user changed a filter meanwhile) wins.
    if (seq !== renderSeq) return
    replace(view, target)
    view.setAttribute('aria-busy', 'false')
    view.dataset.rendered = `${name}:${query.model}:${query.from}:${query.to}:${query.conversion}:${query.lookbackDays ?? ''}`
    // Beside data-rendered, whose format tests match by its end: what else the figures depend on.
    view.dataset.journey = query.journey ?? ''
    view.dataset.id = id
  }
  window.onhashchange = () => void render()
  void render()
}

api.session().then(showApp, (err: unknown) => {
  if (err instanceof ApiError && err.status === 401) showSignIn()
  else replace(app, h('p', { class: 'error', role: 'alert' }, `The collector is not reachable: ${(err as Error).message}`))
})
