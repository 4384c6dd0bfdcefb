// What a form backend needs at once after identify: the lead's original source, its
// last non-direct touch, and how many touches its journey has.

import type { LeadJourney, StoredTouch } from '../store/types.js'

export interface JourneySummary {
  firstTouch: StoredTouch | null
  lastTouch: StoredTouch | null
  touchCount: number
  /** Channel of the first touch (the original source). */
  channel: string | null
}

export function isDirect(touch: StoredTouch): boolean {
  return touch.channel === 'Direct' || touch.source === '(direct)'
}

export function summarizeJourney(journey: LeadJourney | null): JourneySummary {
  const touches = journey?.touches ?? []
  if (touches.length === 0) return { firstTouch: null, lastTouch: null, touchCount: 0, channel: null }
  // The stored original source wins over "oldest touch": it is fixed once set.
  const pinned = journey?.lead.firstTouchId
  const firstTouch = (pinned ? touches.find((t) => t.touchId === pinned) : undefined) ?? touches[0]
  let lastTouch = touches[touches.length - 1]
  for (let i = touches.length - 1; i >= 0; i--) {
    if (!isDirect(touches[i])) {
      lastTouch = touches[i]
      break
    }
  }
  return { firstTouch, lastTouch, touchCount: touches.length, channel: firstTouch.channel }
}
