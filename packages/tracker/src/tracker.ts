// Wires the concerns together: touches → session state → storage, events → transport, state → forms.
// Every public method and every callback the browser invokes goes through `guard`, so nothing the
// tracker does throws into the host page; errors reach `onError` instead.
import { clean } from './clean.js'
import { type Options, type TrackerError, resolveOptions } from './config.js'
import { type Consent, gpcDenies, gtagConsent, initialConsent } from './consent.js'
import { fillForms, watchForms } from './forms.js'
import { id, isId } from './id.js'
import { advance } from './session.js'
import { type Category, sourceTable } from './sources.js'
import { type State, clearState, fromJar, jar, loadState, saveState } from './storage.js'
import { type Touch, type TouchContext, detectTouch } from './touch.js'
import { type Transport, createTransport, type TrackerEvent } from './transport.js'

export type { Options, TrackerError, Touch, TrackerEvent, Consent }

export interface Attribution {
  visitorId: string
  sessionId: string
  firstTouch: Touch | null
  lastTouch: Touch | null
}

export interface IdentifyInput {
  email?: string
  phone?: string
  userId?: string
  traits?: Record<string, unknown>
}

export interface Tracker {
  /** Records a page view (automatic on load and, with `spa`, on pushState/popstate). */
  page(): void
  track(name: string, props?: Record<string, unknown>): void
  /** Sends an `identify` event; email, phone and userId travel in `traits`. */
  identify(input: IdentifyInput): void
  consent(state: 'granted' | 'denied'): void
  attribution(): Attribution
  fillForms(root?: ParentNode): void
  /** `url` carrying the visitor ID (`_clv`) for links to other own domains; unchanged without consent. */
  decorate(url: string): string
  /** New visitor ID; clears stored touches, session and queue. */
  reset(): void
  flush(): Promise<void>
}

export function startTracker(options: Options, sources: Record<Category, string>): Tracker {
  const o = resolveOptions(options)
  // The script tag cannot pass a function, so its build drops error reporting (and the codes).
  const report = (code: string, cause?: unknown) => {
    if (!__SCRIPT__)
      try {
        o.onError?.({ code, cause } as TrackerError)
      } catch {
        // A throwing onError must not reach the page either.
      }
  }
  // A guarded call first runs whatever start-up is left (see `boot`), except the idle steps' own.
  const guard =
    <A extends unknown[], R>(f: (...a: A) => R, idling?: 1) =>
    (...a: A): R | undefined => {
      try {
        idling || boot()
        return f(...a)
      } catch (e) {
        report('CL_ERR_TRACKER_INTERNAL', e)
      }
    }
  if (!__SCRIPT__ && !o.site) report('CL_ERR_TRACKER_CONFIG')

  // A visitor ID handed over by decorate() on another own domain. It leaves the address bar (and
  // so every recorded URL) at once: a shared link must not merge other people into this visitor.
  const handed = new URL(location.href).searchParams.get('_clv')
  if (handed != null)
    try {
      history.replaceState(history.state, '', location.href.replace(/([?&])_clv=[^&#]*&?/, '$1').replace(/[?&](#|$)/, '$1'))
    } catch {
      // Sandboxed documents refuse replaceState; the ID is still adopted.
    }
  // With `gtag`, the page's Consent Mode commands decide, now and whenever they change, through
  // api.consent: nothing of the page's runs between here and the guarding of every method below
  // (a page's replaceState hook, for one, has run above), so no push can find it unguarded.
  let consent = initialConsent(o.consent == 'gtag' ? gtagConsent((c) => api.consent(c as 'granted')) : o.consent, o.respectGpc, o.respectDnt)
  const granted = () => consent == 'granted'
  // Only what cannot wait happens before `boot`: _clv leaves the address bar (above), and the
  // arrival's address, referrer and title are read now (the page may rewrite them later).
  let ref = document.referrer
  const pageUrl = () => location.href.split('#')[0]
  const arrival = [pageUrl(), document.title] as const

  let transport: Transport
  let st: State
  let ctx: TouchContext
  const save = () => granted() && saveState(st, o.cookieDomain)
  const wipe = () => {
    clearState(o.cookieDomain)
    transport.clear()
  }
  // Unknown `forms` values act as the default, `auto`.
  const fill = (root?: ParentNode) => granted() && o.forms != 'off' && fillForms(root || document, st, o.fieldPrefix, o.forms != 'fill')

  const send = (e: Partial<TrackerEvent>) => {
    if (consent != 'denied') {
      transport.push({ vid: st.vid, sid: st.sid, id: id(), ts: (st.last = Date.now()), ...e } as TrackerEvent)
      save()
    }
  }

  const page = (href = pageUrl(), title = document.title) => {
    const now = Date.now()
    const touch = advance(st, detectTouch(href, ref, ctx, now), () => detectTouch(href, ref, ctx, now, true) as Touch, now, o.sessionTimeout * 6e4)
    // Meta's pixel may have set _fbp; it rides on the event's copy of the touch only (the collector
    // checks it and hands it to the Conversions API), so the touch cookies stay as they were.
    send({ type: 'page', url: clean(href), ref: clean(ref) || undefined, title: clean(title) || undefined, touch: touch ? { ...touch, fbp: fromJar(jar(), '_fbp') } : undefined })
    // In a single-page app the next page's referrer is this page, and a route change to another
    // address than this one's is a new page.
    ref = href
    // The arrival's forms are filled in the next step, with the watcher.
    steps[0] || fill()
  }

  // Start-up in two steps: storage, IDs, the arrival's touch and page event; then the forms and the
  // watcher for forms added later. The script tag runs them one idle task each once the page has
  // loaded; anything that needs them earlier (an API call, a form interaction, leaving, a route
  // change) runs the rest at once, as the npm build does at creation. Storage and the page event
  // share a task because apart they cost more: 0.3-0.5 ms more main-thread CPU in a fresh context
  // (bench/RESULTS.md), while the pair stays well under a long task on a throttled phone.
  const steps = [
    () => {
      transport = createTransport((o.collector || location.origin) + '/v1/collect', o.site, o.cookieDomain, granted, report)
      if (consent == 'denied') wipe()
      st = loadState()
      ctx = { host: location.hostname, internal: o.internalDomains, sources: sourceTable(sources) }
      st.vid = isId(handed) ? handed : st.vid || id()
      page(...arrival)
    },
    () => o.forms != 'off' && (fill(), watchForms(fill, guard)),
  ]
  // A step leaves the list before it runs, so a call it makes does not run it again.
  const boot = () => {
    while (steps[0]) steps.shift()!()
  }

  const api: Tracker = {
    page: () => page(),
    track: (name, props) => send({ type: 'track', name: clean(name), props }),
    identify(i) {
      send({ type: 'identify', traits: { ...i.traits, email: i.email, phone: i.phone, userId: i.userId } })
      // Identify usually precedes a navigation (form submit): send now rather than batch.
      transport.flush()
    },
    consent(state) {
      // A grant against GPC or DNT, or any other value, changes nothing.
      if (state == 'denied') {
        consent = state
        wipe()
      } else if (state == 'granted' && !gpcDenies(o.respectGpc, o.respectDnt)) {
        consent = state
        save()
        transport.persist()
        transport.flush()
        fill()
      }
    },
    attribution: () => ({ visitorId: st.vid, sessionId: st.sid, firstTouch: st.ft, lastTouch: st.lt }),
    fillForms: fill,
    decorate(url) {
      try {
        const u = new URL(url, location.href)
        u.searchParams.set('_clv', st.vid)
        // Without consent the visitor ID does not leave the page.
        return granted() ? u.href : url
      } catch {
        return url
      }
    },
    reset() {
      wipe()
      // A session at once, so events before the next page carry a valid one; with no first touch,
      // that next page opens a new session and touch (see advance).
      st.ft = st.lt = null
      st.vid = id()
      st.sid = id()
      st.last = Date.now()
      save()
    },
    flush: () => transport.flush(),
  }
  for (const k in api) (api as unknown as Record<string, unknown>)[k] = guard(api[k as keyof Tracker] as (...a: unknown[]) => unknown)

  // Document events are heard on the window, capturing: first, and whether they bubble or not.
  const leave = guard(() => transport.leave())
  addEventListener('visibilitychange', () => document.visibilityState == 'hidden' && leave(), true)
  addEventListener('pagehide', leave)
  if (o.spa) {
    const nav = guard(() => pageUrl() != ref && page())
    const push = history.pushState
    history.pushState = function (this: History, ...a: Parameters<History['pushState']>) {
      push.apply(this, a)
      nav()
    }
    addEventListener('popstate', nav)
  }
  // A form being used needs its fields now: filled before the page's own submit handlers run.
  addEventListener('focusin', guard(boot), true)
  addEventListener('submit', guard((e: Event) => fill(e.target as HTMLFormElement)), true)
  // The script tag starts once the page has loaded and the browser is idle (setTimeout where there is
  // no requestIdleCallback: Safari); the npm build at once, since an app creates its tracker when it
  // wants it working.
  const idle = (): unknown => (self.requestIdleCallback || setTimeout)(guard(() => steps[0] && (steps.shift()!(), idle()), 1), { timeout: 1000 } as never)
  __SCRIPT__ ? (document.readyState == 'complete' ? idle() : addEventListener('load', idle)) : guard(boot)()
  return api
}
