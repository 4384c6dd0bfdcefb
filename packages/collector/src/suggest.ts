// "Did you mean …?" for mistyped commands, flags and option values (the CLI's, and the API's enum
// fields): the nearest candidate by edit distance (a swap of two neighbouring letters counts as one edit).

/** Optimal string alignment distance between a and b. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/** The candidate nearest to `word`, or undefined when none is within a third of its length (at least 2 edits). */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3))
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const dist = editDistance(word.toLowerCase(), c.toLowerCase())
    if (dist < bestDistance) [best, bestDistance] = [c, dist]
  }
  return bestDistance <= limit ? best : undefined
}

/** `did you mean "report"?`, or '' when nothing is near. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const n = nearest(word, candidates)
  return n === undefined ? '' : `did you mean "${n}"?`
}
