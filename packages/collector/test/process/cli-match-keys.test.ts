// The CLI commands that compute match keys upgrade a store whose keys are still unkeyed SHA-256
// before they compute one, like `serve`: `deals import` then links a deal to a lead stored before the
// upgrade, and `erase` finds such a lead by its e-mail.

import { createHash, createHmac } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { encrypt, loadInstallKeys } from '../../src/identity/crypto.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore, SQLITE_FILE } from '../../src/store/index.js'
import { SqliteStore } from '../../src/store/sqlite/store.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import { tempDir } from '../http/helpers.js'
import { runCli } from './cli-process.js'

const dir = tempDir('closeloop-cli-keys-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

describe('closeloop on a store with unkeyed match keys', () => {
  it('deals import and erase key the stored keys first, then match the old leads', async () => {
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    // The store as written before keying: schema without the upgrade's migration (11), plain SHA-256
    // keys. Later migrations stay: this code prepares statements for their columns.
    const old = new SqliteStore({ file: join(dir, SQLITE_FILE), migrations: SQLITE_MIGRATIONS.filter((m) => m.version !== 11) })
    await old.migrate()
    const { site } = await createSite(old, { name: 'shop', origins: ['https://shop.example'], cookieDomain: null })
    const ada = await old.identify({ siteId: site.id, keys: [{ kind: 'email', hash: sha256('ada@shop.example') }], emailEnc: encrypt('ada@shop.example', keys.encryptionKey), ts: Date.UTC(2026, 0, 1) })
    await old.identify({ siteId: site.id, keys: [{ kind: 'email', hash: sha256('eve@shop.example') }], emailEnc: encrypt('eve@shop.example', keys.encryptionKey), ts: Date.UTC(2026, 0, 1) })
    await old.close()

    const csv = join(dir, 'deals.csv')
    writeFileSync(csv, 'dealId,email,stage,amount\nD-1,Ada@Shop.example,won,100\n')
    const imported = await runCli(['deals', 'import', csv, '--data', dir, '--site', 'shop'], { CLOSELOOP_SECRET_KEY: '' })
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toContain('1 of 1 rows imported')
    expect(imported.stdout).not.toContain('not linked')

    const db = new Database(join(dir, SQLITE_FILE), { readonly: true })
    try {
      const stored = (db.prepare('SELECT hash FROM lead_identities ORDER BY hash').pluck().all() as string[])
      const keyed = (email: string) => createHmac('sha256', keys.matchKey).update(sha256(email)).digest('hex')
      expect(stored).toEqual([keyed('ada@shop.example'), keyed('eve@shop.example')].sort())
      expect(db.prepare('SELECT name, rows FROM data_upgrades').all()).toEqual([{ name: 'match keys keyed', rows: 2 }])
    } finally {
      db.close()
    }
    const store = await openStore({ dataDir: dir })
    try {
      expect((await store.getDeals(site.id, ada.leadId)).map((d) => d.dealId)).toEqual(['D-1'])
    } finally {
      await store.close()
    }

    const erased = await runCli(['erase', '--data', dir, '--site', 'shop', '--email', 'EVE@shop.example'], { CLOSELOOP_SECRET_KEY: '' })
    expect(erased.code, erased.stderr).toBe(0)
    expect(erased.stdout).toContain('Erased 1 lead(s)')
  })
})
