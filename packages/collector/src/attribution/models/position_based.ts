// U-shaped: 40% first, 40% last, 20% split over the middle touches; 1 touch 100%, 2 touches 50/50.
import { credit, type Model } from './model.js'

export const positionBased: Model = ({ paths, keys, direct }, out) => {
  for (let c = 0; c < paths.count; c++) {
    const n = paths.length[c]
    if (n === 0) continue
    const rev = paths.revenue[c]
    const first = paths.first[c]
    const last = paths.last[c]
    if (n === 1) {
      credit(out, keys[first], 1, rev)
      continue
    }
    if (n === 2) {
      credit(out, keys[first], 0.5, rev)
      credit(out, keys[last], 0.5, rev)
      continue
    }
    credit(out, keys[first], 0.4, rev)
    credit(out, keys[last], 0.4, rev)
    const middle = 0.2 / (n - 2)
    const keep = paths.keepDirect[c]
    for (let i = first + 1; i < last; i++) {
      if (direct[i] > keep) continue
      credit(out, keys[i], middle, rev)
    }
  }
}
