// Shared by w_shaped and full_path: fixed weights on key positions, the rest weight split over the
// other touches. Positions that coincide add up. Weight that has nowhere to go — a position the
// conversion has not reached (no opportunity yet for a lead, no lead-creation touch inside the
// lookback) or a rest share with no other touches — is redistributed by renormalising, i.e. in
// proportion to the weights that are present.
import { credit, type Model, type ModelInput, type Credit } from './model.js'

export interface PositionWeights {
  first: number
  lead: number
  opp: number
  won: number
  rest: number
}

export function positional(w: PositionWeights): Model {
  return ({ paths, keys, direct }: ModelInput, out: Credit) => {
    for (let c = 0; c < paths.count; c++) {
      const n = paths.length[c]
      if (n === 0) continue
      const f = paths.first[c]
      const l = paths.leadPos[c]
      const o = paths.oppPos[c]
      const won = w.won > 0 ? paths.wonPos[c] : -1
      let distinct = 1
      let total = w.first
      if (l >= 0) { total += w.lead; if (l !== f) distinct++ }
      if (o >= 0) { total += w.opp; if (o !== f && o !== l) distinct++ }
      if (won >= 0) { total += w.won; if (won !== f && won !== l && won !== o) distinct++ }
      const nRest = n - distinct
      if (nRest > 0) total += w.rest
      const restShare = nRest > 0 ? w.rest / nRest : 0
      const keep = paths.keepDirect[c]
      const rev = paths.revenue[c]
      for (let i = paths.start[c], end = paths.end[c]; i < end; i++) {
        if (direct[i] > keep) continue
        let wi = 0
        let isPosition = false
        if (i === f) { wi += w.first; isPosition = true }
        if (i === l) { wi += w.lead; isPosition = true }
        if (i === o) { wi += w.opp; isPosition = true }
        if (i === won) { wi += w.won; isPosition = true }
        if (!isPosition) wi = restShare
        if (wi > 0) credit(out, keys[i], wi / total, rev)
      }
    }
  }
}
