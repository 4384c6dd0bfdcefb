// The serving process's garbage-collection headroom. A report at 1M touchpoints leaves ~15 MB of
// short-lived objects, and V8 by default lets the old generation grow to about four times what
// survived the last full collection before it collects again: with ~80 MB live, the heap reached
// ~330 MB of mostly garbage between collections. A fixed growing factor makes it collect sooner.

import { setFlagsFromString } from 'node:v8'

/** Old-generation growth allowed between full collections, in percent of what survived (V8's default adapts up to 300). */
export const HEAP_GROWING_PERCENT = 20

let applied = false

/** Applies HEAP_GROWING_PERCENT to this process (once; `closeloop serve` calls it before opening the store). */
export function limitHeapGrowth(): void {
  if (applied) return
  applied = true
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
