// 100% to the last non-direct touch; a direct-only path's last (direct) touch.
// The path has already dropped direct touches, so its last touch is the right one.
import { credit, type Model } from './model.js'

export const lastTouch: Model = ({ paths, keys }, out) => {
  for (let c = 0; c < paths.count; c++) {
    if (paths.length[c] > 0) credit(out, keys[paths.last[c]], 1, paths.revenue[c])
  }
}
