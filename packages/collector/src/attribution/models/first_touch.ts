// 100% to the first touch of the path.
import { credit, type Model } from './model.js'

export const firstTouch: Model = ({ paths, keys }, out) => {
  for (let c = 0; c < paths.count; c++) {
    if (paths.length[c] > 0) credit(out, keys[paths.first[c]], 1, paths.revenue[c])
  }
}
