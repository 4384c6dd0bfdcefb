// Hands the stored attribution to the site's own forms. Values are assigned as
// `.value` properties, never through HTML, so attacker-controlled UTM text stays text.
import type { State } from './storage.js'
import type { Touch } from './touch.js'

const TOUCH_FIELDS = 'source medium campaign term content channel click_id click_id_type landing referrer ts'.split(' ') as (keyof Touch)[]
const off = (el: Element) => el.getAttribute('data-closeloop') == 'off'

/** Field name (without prefix) → value; `*_ts` as ISO 8601, which CRMs read as a date. */
export function formFields(st: State): Record<string, string> {
  const f: Record<string, string> = { visitor_id: st.vid, session_id: st.sid }
  for (const p of ['ft', 'lt']) {
    const t = st[p as 'ft' | 'lt']
    for (const k of TOUCH_FIELDS) f[p + '_' + k] = !t ? '' : k == 'ts' ? new Date(t.ts).toISOString() : (t[k] as string) || ''
  }
  return f
}

/**
 * Fills every form in (or being) `root`; with `add`, creates our missing fields as hidden inputs.
 * Conventional plain inputs (utm_*, gclid, fbclid, msclkid: HubSpot, Marketo and WordPress form
 * plugins) that exist are filled from the last touch when it has a value for them.
 */
export function fillForms(root: ParentNode, st: State, prefix: string, add: boolean): void {
  const ours = formFields(st)
  const plain: Record<string, unknown> = {}
  const lt = st.lt || ({} as Touch)
  for (const k of TOUCH_FIELDS.slice(0, 5)) plain['utm_' + k] = lt[k]
  if (/^(gclid|fbclid|msclkid)$/.test(lt.click_id_type as string)) plain[lt.click_id_type as string] = lt.click_id
  for (const form of (root as Element).tagName == 'FORM' ? [root as HTMLFormElement] : root.querySelectorAll('form')) {
    if (off(form)) continue
    const set = (name: string, value: unknown, create?: boolean) => {
      let el = form.elements.namedItem(name) as HTMLInputElement | null
      if (!el && create) {
        el = form.appendChild(document.createElement('input'))
        el.type = 'hidden'
        el.name = name
      }
      // Only text-like inputs (a checkbox or select would change what the user chose); a
      // RadioNodeList (duplicate names) has no type and is skipped.
      if (el && value != null && /^(hidden|text|textarea)$/.test(el.type) && !off(el)) el.value = value as string
    }
    for (const k in ours) set(prefix + k, ours[k], add)
    for (const k in plain) set(k, plain[k])
  }
}

/**
 * Fills forms once the document is parsed (so inputs written in the HTML are found, not duplicated),
 * again whenever nodes are added (forms rendered later), and at submit (capture phase, before the
 * page's own handlers).
 */
export function watchForms(fill: (root: ParentNode) => void, guard: <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => void): void {
  const all = guard(() => fill(document))
  const start = () => {
    all()
    // Filling sets properties only, and the inputs it adds exist on the next pass: no feedback loop.
    new MutationObserver(all).observe(document, { childList: true, subtree: true })
  }
  document.addEventListener('submit', guard((e: Event) => fill(e.target as HTMLFormElement)), true)
  document.readyState == 'loading' ? document.addEventListener('DOMContentLoaded', start) : start()
}
