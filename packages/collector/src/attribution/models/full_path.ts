// 22.5% each first, lead-creation, opportunity-creation, closed-won; 10% the rest (see positional.ts).
import { positional } from './positional.js'

export const fullPath = positional({ first: 0.225, lead: 0.225, opp: 0.225, won: 0.225, rest: 0.1 })
