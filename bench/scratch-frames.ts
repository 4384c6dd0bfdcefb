import { statSync, rmSync } from 'node:fs'
import { dataset } from './collector-server.js'
import { simulateVisitors } from '../packages/collector/src/simulate/index.js'
import { SqliteStore } from '../packages/collector/src/store/sqlite.js'
import { hashIdentity } from '../packages/collector/src/identity.js'
const { dir, meta } = await dataset({ copy: true })
const anonymous: string[] = []
for (const v of simulateVisitors({ seed: meta.seed, visitors: meta.visitors, end: meta.end, extraPages: 0 })) if (!v.identify && v.events.length > 0) anonymous.push(v.visitorId)
const store = new SqliteStore({ file: dir + '/closeloop.sqlite', checkpointIntervalMs: 0, synchronous: (process.env.SYNC as 'FULL') ?? 'FULL' })
await store.migrate()
store.db.pragma('wal_autocheckpoint = 0')
const site = (await store.listSites())[0]
const wal = dir + '/closeloop.sqlite-wal'
let k = 0
for (const batch of [1, 1, 6, 6, 6, 10, 10]) {
  const before = statSync(wal).size
  const t = performance.now()
  await Promise.all(Array.from({ length: batch }, () => { const i = k++; return store.identify({ siteId: site.id, visitorId: anonymous[i * 7919 % anonymous.length], keys: [{ kind: 'email', hash: hashIdentity(`x${i}@e.com`) }], emailEnc: 'v1.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', phoneEnc: null, externalId: null, traits: {}, ts: Date.now() }) }))
  const ms = performance.now() - t
  console.log(`batch ${batch}: WAL +${(statSync(wal).size - before) / 4120} frames, ${ms.toFixed(2)} ms`)
}
await store.close()
rmSync(dir, { recursive: true, force: true })
