// A single-page app using the npm SDK: routes change with history.pushState, which the tracker
// counts as page views (option `spa`, default on); a form rendered by a route gets the hidden
// cl_* fields without any code here (the tracker watches the DOM).
import { createTracker } from '@closeloop/tracker'

const VIEWS = {
  '/': () => `<h1>Pipeline you can trace to revenue</h1>`,
  '/pricing': () => `<h1>Pricing</h1><p>Starter, Growth, Scale.</p>`,
  '/contact': (action) =>
    `<h1>Talk to sales</h1>
     <form id="lead" method="post" action="${action}">
       <label>Work email <input name="email" type="email" required></label>
       <button>Send</button>
     </form>`,
}

export function start({ site, collector, formAction }) {
  const closeloop = createTracker({ site, collector, onError: (e) => console.warn('closeloop', e.code) })
  const view = document.getElementById('view')
  // Route templates are our own markup; nothing tracked is ever written as HTML.
  const render = () => (view.innerHTML = (VIEWS[location.pathname] ?? VIEWS['/'])(formAction))
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-route]')
    if (!a) return
    e.preventDefault()
    history.pushState({}, '', a.href)
    render()
  })
  addEventListener('popstate', render)
  render()
  const first = closeloop.attribution().firstTouch
  document.getElementById('first-touch').textContent = first ? `${first.source} / ${first.medium}` : '(none yet)'
  window.app = { closeloop }
}
