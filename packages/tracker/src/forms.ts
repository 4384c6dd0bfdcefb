// Hands the stored attribution to the site's own forms. Values are assigned as
// `.value` properties, never through HTML, so attacker-controlled UTM text stays text.
import type { State } from './storage.js'
import type { Touch } from './touch.js'

const TOUCH_FIELDS = 'source medium campaign term content channel click_id click_id_type landing referrer ts'.split(' ') as (keyof Touch)[]
const off = (el: HTMLElement) => el.dataset.closeloop == 'off'

/** Field name (without prefix) → value; `*_ts` as ISO 8601, which CRMs read as a date. */
export function formFields(st: State): Record<string, string> {
  const f: Record<string, string> = { visitor_id: st.vid, session_id: st.sid }
  for (const p of ['ft', 'lt']) {
    const t = st[p as 'ft' | 'lt'],
      v: Record<string, unknown> = t ? { ...t, ts: new Date(t.ts).toISOString() } : {}
    for (const k of TOUCH_FIELDS) f[p + '_' + k] = (v[k] as string) || ''
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
  const lt = st.lt || ({} as Touch)
  for (const form of (root as Element).tagName == 'FORM' ? [root as HTMLFormElement] : root.querySelectorAll('form')) {
    if (off(form)) continue
    // The form's controls by name and id, indexed once: namedItem() would scan the form for every
    // field, and again after every insertion. A name shared by several controls maps to null (as a
    // RadioNodeList, it is skipped); new inputs go in through one fragment.
    const named: Record<string, HTMLInputElement | null> = {}
    for (const el of form.elements as unknown as HTMLInputElement[])
      for (const k of [el.id, el.name]) if (k && named[k] != el) named[k] = k in named ? null : el
    const added = document.createDocumentFragment()
    const set = (name: string, value: unknown, create?: boolean) => {
      const el = named[name]
      if (!(name in named)) create && Object.assign(added.appendChild(document.createElement('input')), { type: 'hidden', name, value })
      // Only text-like inputs (a checkbox or select would change what the user chose).
      else if (el && value != null && /^(hidden|text|textarea)$/.test(el.type) && !off(el)) el.value = value as string
    }
    for (const k in ours) set(prefix + k, ours[k], add)
    for (const k of TOUCH_FIELDS.slice(0, 5)) set('utm_' + k, lt[k])
    if (/^(gclid|fbclid|msclkid)$/.test(lt.click_id_type as string)) set(lt.click_id_type as string, lt.click_id)
    form.appendChild(added)
  }
}

/**
 * Fills forms again once the document is parsed (so inputs written in the HTML are found, not
 * duplicated) and whenever nodes are added: the form they are in, or the forms they hold.
 */
export function watchForms(fill: (root: ParentNode) => void, guard: <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => void): void {
  const observe = () =>
    // Filling sets properties only, and the inputs it adds exist on the next pass: no feedback loop.
    // Each form is filled once per batch of records, not once per node added to it (the 24 inputs
    // a fill adds come back as one batch).
    new MutationObserver(
      guard((records: MutationRecord[]) => {
        const roots = new Set<ParentNode>()
        for (const r of records) for (const n of r.addedNodes as unknown as Element[]) if (n.closest) roots.add(n.closest('form') || n)
        roots.forEach(fill)
      }),
    ).observe(document, { childList: true, subtree: true })
  document.readyState == 'loading' ? document.addEventListener('DOMContentLoaded', guard(() => (fill(document), observe()))) : observe()
}
