// Simplified Shapley value (Zhao, Mahboobi & Bagheri 2018, "Shapley Value Methods for Attribution
// Modeling in Online Advertising", arXiv:1804.05327) of the game v(S) = conversions whose path's key
// set ⊆ S. v is a sum of unanimity games u_T (one per conversion, T = its distinct keys), and the
// Shapley value of u_T gives 1/|T| to each member of T and 0 to others; by additivity each
// conversion's credit is split equally among the distinct keys of its path. This is exact, order
// invariant and linear in touches; the tests check it against a brute force over all coalitions.
import { credit, type Model } from './model.js'

export const shapley: Model = ({ paths, keys, nKeys, direct }, out) => {
  const counted = new Int32Array(nKeys).fill(-1)
  const credited = new Int32Array(nKeys).fill(-1)
  for (let c = 0; c < paths.count; c++) {
    if (paths.length[c] === 0) continue
    const keep = paths.keepDirect[c]
    const start = paths.start[c]
    const end = paths.end[c]
    let distinct = 0
    for (let i = start; i < end; i++) {
      if (direct[i] > keep) continue
      const k = keys[i]
      if (counted[k] !== c) { counted[k] = c; distinct++ }
    }
    const share = 1 / distinct
    const rev = paths.revenue[c]
    for (let i = start; i < end; i++) {
      if (direct[i] > keep) continue
      const k = keys[i]
      if (credited[k] !== c) { credited[k] = c; credit(out, k, share, rev) }
    }
  }
}
