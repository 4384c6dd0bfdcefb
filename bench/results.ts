// Writes one benchmark's section of bench/RESULTS.md, between its `<!-- name:start -->` and
// `<!-- name:end -->` markers, leaving every other section (and hand-written notes) untouched.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const FILE = fileURLToPath(new URL('./RESULTS.md', import.meta.url))

/** `section` includes its own start and end markers. Appends it when the file has none yet. */
export function writeResultsSection(name: string, section: string): void {
  let text = '# Benchmark results\n'
  try {
    text = readFileSync(FILE, 'utf8')
  } catch {
    // A first run: the file is created.
  }
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  writeFileSync(FILE, a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + end.length) : `${text.trimEnd()}\n\n${section}\n`)
  console.log(`updated ${FILE}`)
}
