// Weight 2^(−age/halfLife), age = conversion time − touch time, normalised per conversion.
// Weights are taken relative to the path's newest touch (weight 1): the normalised shares are the
// same, and the sum can never underflow to 0 whatever the lookback and half-life.
import { credit, type Model } from './model.js'

export const timeDecay: Model = ({ paths, keys, direct, ts, halfLifeMs }, out) => {
  for (let c = 0; c < paths.count; c++) {
    if (paths.length[c] === 0) continue
    const keep = paths.keepDirect[c]
    const newest = ts[paths.last[c]]
    const start = paths.start[c]
    const end = paths.end[c]
    let sum = 0
    for (let i = start; i < end; i++) {
      if (direct[i] > keep) continue
      sum += Math.pow(2, -(newest - ts[i]) / halfLifeMs)
    }
    const rev = paths.revenue[c]
    for (let i = start; i < end; i++) {
      if (direct[i] > keep) continue
      credit(out, keys[i], Math.pow(2, -(newest - ts[i]) / halfLifeMs) / sum, rev)
    }
  }
}
