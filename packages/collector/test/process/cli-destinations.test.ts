// `closeloop destinations add|list|remove|status` as real child processes: a feed's credentials
// printed once (stored only hashed), the stage mapping, status after rows were queued and a feed
// downloaded, and the coded failures of bad --send values, kinds and IDs.

import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { expectFailure, runCli } from './cli-process.js'
import { tempDir } from '../http/helpers.js'
import { openStore, SQLITE_FILE } from '../../src/store/index.js'
import { emailKey, event, touch } from '../store/fixtures.js'

const dir = tempDir('closeloop-cli-destinations-')
const data = join(dir, 'data')

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('closeloop destinations', () => {
  it('adds a Google Ads feed, prints its credentials once, lists, reports status and removes it', async () => {
    expect((await runCli(['sites', 'add', '--data', data, '--name', 'b2b', '--origin', 'https://b2b.example'])).code).toBe(0)
    const add = await runCli(['destinations', 'add', '--data', data, '--site', 'b2b', '--kind', 'google-ads-feed', '--send', 'sql=Qualified lead:100', '--send', 'won=Closed deal', '--public-url', 'https://cl.example.com/'])
    expect(add.code, add.stderr).toBe(0)
    const id = /Destination (dst_\S+) added \(google-ads-feed, site "b2b"\): sql → "Qualified lead" \(100\), won → "Closed deal" \(deal amount\)\./.exec(add.stdout)?.[1] as string
    expect(id).toBeDefined()
    expect(add.stdout).toContain(`feed: https://cl.example.com/v1/feeds/${id}.csv\n`)
    expect(add.stdout).toContain(`  user: ${id}\n`)
    const password = /password: (\S+)/.exec(add.stdout)?.[1] as string
    expect(password.length).toBeGreaterThanOrEqual(32)
    const db = readFileSync(join(data, SQLITE_FILE)).toString('latin1') + readFileSync(join(data, SQLITE_FILE + '-wal'), { flag: 'a+' }).toString('latin1')
    expect(db).not.toContain(password)

    const list = await runCli(['destinations', 'list', '--data', data])
    expect(list.stdout.trimEnd().split('\n')).toEqual(['id\tkind\tsite\tsends\tfeed\tlast sent', `${id}\tgoogle-ads-feed\tb2b\tsql=Qualified lead:100 won=Closed deal\t/v1/feeds/${id}.csv\t-`])
    expect(list.stdout).not.toContain(password)
    expect(JSON.parse((await runCli(['destinations', 'list', '--data', data, '--json'])).stdout)).toMatchObject([{ id, kind: 'google-ads-feed', site: 'b2b', send: { won: { name: 'Closed deal', value: null } } }])

    // A lead with a Google click reaches sql; one without the tracker reaches won.
    const store = await openStore({ dataDir: data })
    try {
      const site = (await store.getSiteByName('b2b'))!
      const t = touch(Date.now() - 86_400_000, 'google', 'cpc', { click_id: 'gclidCLI', click_id_type: 'gclid' })
      await store.ingest([event(site.id, 'cli-visitor', t.ts, { touch: t })])
      const a = await store.identify({ siteId: site.id, visitorId: 'cli-visitor', keys: [emailKey('a@b.example')], ts: Date.now() })
      const b = await store.identify({ siteId: site.id, keys: [emailKey('c@d.example')], ts: Date.now() })
      await store.upsertDeals(site.id, [
        { dealId: 'd1', match: { leadId: a.leadId, keys: [] }, stage: 'sql', crmStage: 'SQL', amount: null, originalAmount: null, originalCurrency: null, ts: Date.now() },
        { dealId: 'd2', match: { leadId: b.leadId, keys: [] }, stage: 'won', crmStage: 'Won', amount: 900, originalAmount: 900, originalCurrency: null, ts: Date.now() },
      ])
    } finally {
      await store.close()
    }
    const status = await runCli(['destinations', 'status', '--data', data, '--site', 'b2b'])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toBe([
      `${id} (google-ads-feed)`,
      '  sql ("Qualified lead"): 0 sent, 1 pending, 0 failed, 0 not sendable',
      '  won ("Closed deal"): 0 sent, 0 pending, 0 failed, 1 not sendable',
      '    1 not sendable: no_consent', '',
    ].join('\n'))

    const removed = await runCli(['destinations', 'remove', '--data', data, id])
    expect([removed.code, removed.stdout]).toEqual([0, `Destination ${id} removed, with its conversion rows.\n`])
    expectFailure(await runCli(['destinations', 'remove', '--data', data, id]), 'destinations remove', 'CL_ERR_DESTINATION_NOT_FOUND')
    expect((await runCli(['destinations', 'list', '--data', data])).stdout).toMatch(/^No destinations yet/)
  })

  it('fails with coded errors on bad --send values, kinds and options', async () => {
    const base = ['destinations', 'add', '--data', data, '--site', 'b2b']
    const send = async (v: string) => expectFailure(await runCli([...base, '--kind', 'google-ads-feed', '--send', v]), 'destinations add', 'CL_ERR_BAD_SEND').message
    expect(await send('closed=Deal')).toMatch(/"closed" is not a stage/)
    expect(await send('won=Deal:-1')).toMatch(/must be a number of at least 0/)
    expect(await send('won=:5')).toMatch(/conversion name must be 1 to 100/)
    expectFailure(await runCli([...base, '--kind', 'google-ads-feed']), 'destinations add', 'CL_ERR_BAD_SEND')
    expectFailure(await runCli([...base, '--kind', 'tiktok', '--send', 'won=Deal']), 'destinations add', 'CL_ERR_UNKNOWN_DESTINATION_KIND')
    expect(expectFailure(await runCli([...base, '--kind', 'microsoft-ads-feed', '--send', 'won=Deal', '--api-base', 'http://x']), 'destinations add', 'CL_ERR_BAD_CONFIG').message).toMatch(/--api-base/)
    expectFailure(await runCli([...base, '--kind', 'google-ads-feed', '--send', 'won=Deal', '--site', 'nope']), 'destinations add', 'CL_ERR_SITE_NOT_FOUND')
    expectFailure(await runCli(['destinations', 'frobnicate', '--data', data]), 'destinations', 'CL_ERR_UNKNOWN_COMMAND')
  })
})
