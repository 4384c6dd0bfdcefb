// npm entry: `createTracker(options)` with the same options as the script tag's data-* attributes.
import { COMPACT_LISTS } from './sources-compact.js'
import { type Attribution, type IdentifyInput, type Tracker, startTracker } from './tracker.js'

export { DEFAULTS } from './config.js'
export type { Attribution, Consent, IdentifyInput, Options, Touch, Tracker, TrackerError, TrackerEvent } from './tracker.js'
import type { Options } from './config.js'

const empty: Attribution = { visitorId: '', sessionId: '', firstTouch: null, lastTouch: null }

/** Does nothing: what createTracker returns during server-side rendering or when start-up fails. */
const NOOP: Tracker = {
  page() {},
  track() {},
  identify() {},
  consent() {},
  attribution: () => ({ ...empty }),
  fillForms() {},
  decorate: (url) => url,
  reset() {},
  flush: () => Promise.resolve(),
}

export function createTracker(options: Options): Tracker {
  // Imported on a server (SSR) the tracker has no page to track.
  if (typeof window == 'undefined') return NOOP
  try {
    return startTracker(options, COMPACT_LISTS)
  } catch (cause) {
    try {
      options?.onError?.({ code: 'CL_ERR_TRACKER_INTERNAL', cause })
    } catch {
      // Nothing reaches the page.
    }
    return NOOP
  }
}
