// The reference-counted cache of report loads from the store, shared by the reports in query.ts.

import type { ReportLoadOptions, ReportTableData } from '../outcomes/types.js'
import type { Store } from '../store/types.js'

// One load serves every report of the same data: concurrent requests share it, and so do requests
// right after it (a dashboard asks for several reports at once, and the SQLite load is synchronous,
// so the second request is only read once the first load is done). A load is reused only while no
// write has been committed since, by this process or any other (Store.dataVersion, read before the
// load starts and again for each report), so a report includes every write acknowledged before it;
// and for at most REUSE_MS, which bounds how long a load is kept in memory.
//
// Each load is counted: one reference while it can be reused, one per report reading it. When the
// last goes, the store gets it back (ReportTableData.release) and may build the next table in its
// arrays. A report holds its reference from before its await to the end of its synchronous use.
const REUSE_MS = 10_000

interface Load {
  jobs: string
  at: number
  data: Promise<ReportTableData>
  /** The data once loaded: released at once then, so the next load can build in its arrays. */
  value?: ReportTableData
  refs: number
}

const loads = new WeakMap<Store, Map<string, Load>>()

function unref(load: Load): void {
  if (--load.refs > 0) return
  if (load.value) load.value.release?.()
  else load.data.then((d) => d.release?.(), () => undefined)
}

/** Removes an entry from the reuse map (and its reference), when it is still the one there. */
function forget(map: Map<string, Load>, key: string, load: Load): void {
  if (map.get(key) !== load) return
  map.delete(key)
  unref(load)
}

function shared(store: Store, siteId: string, opts: ReportLoadOptions, jobs: string): Load {
  let byKey = loads.get(store)
  if (!byKey) loads.set(store, (byKey = new Map()))
  const key = `${siteId}\u0000${opts.touchesFrom}\u0000${opts.touchesTo}\u0000${opts.extra}`
  const now = Date.now()
  const hit = byKey.get(key)
  if (hit && hit.jobs === jobs && now - hit.at < REUSE_MS) return hit
  // Only the newest load of a key is kept; others are dropped when they expire or go stale.
  for (const [k, v] of byKey) if (v.jobs !== jobs || now - v.at >= REUSE_MS) forget(byKey, k, v)
  const map = byKey
  const entry: Load = { jobs, at: now, data: store.loadReportTable(siteId, opts), refs: 1 }
  entry.data.then((d) => (entry.value = d), () => forget(map, key, entry))
  expire(map, key, entry.at)
  map.set(key, entry)
  return entry
}

/**
 * Not kept in memory past its reuse window, requests or not. The timer must not hold the data: a
 * busy collector starts a load per write, and each would stay alive for REUSE_MS. (Its own
 * function, so the closure's scope holds the map, key and time only, never the load.)
 */
function expire(map: Map<string, Load>, key: string, at: number): void {
  setTimeout(() => {
    const entry = map.get(key)
    if (entry && entry.at === at && Date.now() - entry.at >= REUSE_MS) forget(map, key, entry)
  }, REUSE_MS + 1).unref()
}

/** Loads (or reuses) the report input and hands it to `use`, which must not keep the table past its return. */
export async function withLoad<R>(store: Store, siteId: string, opts: ReportLoadOptions, use: (data: ReportTableData) => R): Promise<R> {
  // Read before the load begins: a version equal to a later one proves nothing committed between.
  const version = store.dataVersion()
  const entry = shared(store, siteId, opts, typeof version === 'string' ? version : await version)
  entry.refs++
  try {
    const data = await entry.data
    return use(data)
  } finally {
    unref(entry)
  }
}
