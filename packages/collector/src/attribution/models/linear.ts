// Equal shares over the path's touches (a key seen twice gets two shares).
import { credit, type Model } from './model.js'

export const linear: Model = ({ paths, keys, direct }, out) => {
  for (let c = 0; c < paths.count; c++) {
    const n = paths.length[c]
    if (n === 0) continue
    const share = 1 / n
    const keep = paths.keepDirect[c]
    const rev = paths.revenue[c]
    for (let i = paths.start[c], end = paths.end[c]; i < end; i++) {
      if (direct[i] > keep) continue
      credit(out, keys[i], share, rev)
    }
  }
}
