// Script-tag entry (IIFE, dist/closeloop.js): options from the tag's data-* attributes, the
// collector defaulting to the script's own origin, and `window.closeloop(method, ...args)`.
import { fromDataset } from './config.js'
import { COMPACT_LISTS } from './sources-compact.js'
import { type Tracker, startTracker } from './tracker.js'

type Api = ((method: keyof Tracker, ...args: unknown[]) => unknown) & { q?: ArrayLike<unknown>[] }
const w = window as unknown as { closeloop?: Api }
const stub = w.closeloop
const tag = document.currentScript as HTMLScriptElement | null
let tracker: Tracker | undefined
try {
  const options = fromDataset({ ...tag?.dataset })
  // An inline copy of the script has no src: then the page's origin is the default.
  options.collector ||= tag?.src && new URL(tag.src).origin
  tracker = startTracker(options, COMPACT_LISTS)
} catch {
  // Nothing reaches the page; the API below then answers undefined.
}
// An unknown method (or no tracker) answers undefined: its TypeError is caught, off the normal path.
const api: Api = (method, ...args) => {
  try {
    return (tracker![method] as (...a: unknown[]) => unknown)(...args)
  } catch {
    // Nothing reaches the page.
  }
}
w.closeloop = api
// Calls made through the stub before the script loaded, in their order.
for (const args of stub?.q || []) api(...(args as [keyof Tracker, ...unknown[]]))
