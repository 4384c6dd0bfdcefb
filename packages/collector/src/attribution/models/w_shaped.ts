// 30% first, 30% lead-creation, 30% opportunity-creation, 10% the rest (see positional.ts).
import { positional } from './positional.js'

export const wShaped = positional({ first: 0.3, lead: 0.3, opp: 0.3, won: 0, rest: 0.1 })
