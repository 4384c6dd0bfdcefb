// `closeloop crm add|list|remove|sync` as real child processes against local HubSpot, Salesforce and
// Pipedrive API stubs:
// secrets stored encrypted and never printed back, the inbound path, a pull that writes deals,
// and the coded failures.

import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectFailure, runCli } from './cli-process.js'
import { tempDir } from '../http/helpers.js'
import { openStore, SQLITE_FILE } from '../../src/store/index.js'
import { startHubSpotStub, type HubSpotStub } from '../http/stubs/hubspot-stub.js'
import { startSalesforceStub, type SalesforceStub } from '../http/stubs/salesforce-stub.js'
import { startPipedriveStub, type PipedriveStub } from '../http/stubs/pipedrive-stub.js'

const dir = tempDir('closeloop-cli-crm-')
const data = join(dir, 'data')
const SECRET = 'client-secret-never-printed'
let stub: HubSpotStub
let sf: SalesforceStub
let pipedrive: PipedriveStub

beforeAll(async () => {
  stub = await startHubSpotStub('pat-na1-never-printed')
  sf = await startSalesforceStub({ clientSecret: 'sf-secret-never-printed' })
  pipedrive = await startPipedriveStub('0123456789abcdef0123456789abcdef-never-printed')
})
afterAll(async () => {
  await stub?.close()
  await sf?.close()
  await pipedrive?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('closeloop crm', () => {
  it('adds a HubSpot connection, lists it, pulls its deals, and removes it', async () => {
    expect((await runCli(['sites', 'add', '--data', data, '--name', 'b2b', '--origin', 'https://b2b.example'])).code).toBe(0)
    const add = await runCli(['crm', 'add', '--data', data, '--site', 'b2b', '--kind', 'hubspot', '--token', stub.token, '--client-secret', SECRET, '--api-base', stub.url])
    expect(add.code, add.stderr).toBe(0)
    const id = /CRM connection (crm_\S+) added/.exec(add.stdout)?.[1]
    expect(id).toBeDefined()
    expect(add.stdout).toContain(`inbound: /v1/crm/hubspot/${id}\n`)
    for (const out of [add.stdout, add.stderr]) {
      expect(out).not.toContain(stub.token)
      expect(out).not.toContain(SECRET)
    }
    // Not in the database file in clear either.
    const db = readFileSync(join(data, SQLITE_FILE)).toString('latin1') + readFileSync(join(data, SQLITE_FILE + '-wal'), { flag: 'a+' }).toString('latin1')
    expect(db).not.toContain(SECRET)
    expect(db).not.toContain(stub.token)

    stub.contacts.set('1', { id: '1', properties: { email: 'buyer@corp.example', cl_visitor_id: null, company: 'Corp' } })
    stub.setDeal({ id: '42', contacts: ['1'], properties: { dealname: 'Corp', amount: '5000', dealstage: 'closedwon', pipeline: 'default', closedate: '2026-03-01T00:00:00.000Z', deal_currency_code: null, hs_lastmodifieddate: String(Date.UTC(2026, 2, 1)) } })
    stub.setDeal({ id: '43', contacts: [], properties: { dealname: 'Nobody', amount: '1', dealstage: 'closedwon', pipeline: 'default', closedate: null, deal_currency_code: null, hs_lastmodifieddate: String(Date.UTC(2026, 2, 2)) } })
    const sync = await runCli(['crm', 'sync', '--data', data, '--site', 'b2b'])
    expect(sync.code, sync.stderr + sync.stdout).toBe(0)
    expect(sync.stdout).toBe(`${id} (hubspot): 1 deal(s) written, 1 without a contact e-mail, 0 error(s)\n`)

    const list = await runCli(['crm', 'list', '--data', data])
    expect(list.code).toBe(0)
    const [header, row] = list.stdout.trimEnd().split('\n')
    expect(header).toBe('id\tkind\tsite\tlast event\tlast sync\terrors')
    expect(row).toMatch(new RegExp(`^${id}\\thubspot\\tb2b\\t-\\t\\d{4}-\\d\\d-\\d\\dT[^\\t]+\\t0$`))
    expect(list.stdout).not.toContain(SECRET)
    const json = JSON.parse((await runCli(['crm', 'list', '--data', data, '--json'])).stdout)
    expect(json).toMatchObject([{ id, kind: 'hubspot', site: 'b2b', inbound: `/v1/crm/hubspot/${id}`, errors: 0 }])

    // A failing CRM shows in the list's error column.
    stub.failNext(10, 0, 401)
    const failed = await runCli(['crm', 'sync', '--data', data, '--site', 'b2b'])
    expect(failed.code).toBe(1)
    expect(failed.stdout).toMatch(/1 error\(s\)\n {2}HubSpot answered 401/)
    stub.failNext(0, 0)
    expect((await runCli(['crm', 'list', '--data', data])).stdout).toMatch(/\t1 \(last .*HubSpot answered 401/)

    const removed = await runCli(['crm', 'remove', '--data', data, id as string])
    expect([removed.code, removed.stdout]).toEqual([0, `CRM connection ${id} removed.\n`])
    expectFailure(await runCli(['crm', 'remove', '--data', data, id as string]), 'crm remove', 'CL_ERR_CRM_CONNECTION_NOT_FOUND')
  })

  it('adds a Salesforce connection whose inbound path ends in a secret token, and pulls its opportunities', async () => {
    const add = await runCli(['crm', 'add', '--data', data, '--site', 'b2b', '--kind', 'salesforce', '--instance-url', sf.url, '--client-id', sf.clientId, '--client-secret', sf.clientSecret, '--org-id', '00Dxx0000001gEREAY', '--email-field', 'Contact_Email__c'])
    expect(add.code, add.stderr).toBe(0)
    const m = /CRM connection (crm_\S+) added \(salesforce, site "b2b"\)\.\ninbound: \/v1\/crm\/salesforce\/(crm_\S+)\/([\w-]{32})\n/.exec(add.stdout)
    expect(m?.[1]).toBe(m?.[2])
    const [, id, , token] = m!
    expect(add.stdout).toContain('secret token')
    expect(add.stdout + add.stderr).not.toContain(sf.clientSecret)
    const db = readFileSync(join(data, SQLITE_FILE)).toString('latin1') + readFileSync(join(data, SQLITE_FILE + '-wal'), { flag: 'a+' }).toString('latin1')
    expect(db).not.toContain(token)
    expect(db).not.toContain(sf.clientSecret)
    // The list does not print the token again.
    const json = JSON.parse((await runCli(['crm', 'list', '--data', data, '--json'])).stdout) as Array<{ id: string; inbound: string }>
    expect(json.find((c) => c.id === id)?.inbound).toBe(`/v1/crm/salesforce/${id}/{path-token}`)

    sf.opportunities.set('006xx000001CLIAAAA', { Id: '006xx000001CLIAAAA', StageName: 'Closed Won', Amount: 900, IsWon: true, IsClosed: true, CloseDate: '2026-03-02', SystemModstamp: '2026-03-02T08:00:00.000+0000' })
    sf.contacts.set('003xx000001CLIAAAA', { Id: '003xx000001CLIAAAA', Email: 'sf-buyer@corp.example', AccountName: 'Corp', cl_visitor_id__c: null })
    sf.roles.push({ OpportunityId: '006xx000001CLIAAAA', ContactId: '003xx000001CLIAAAA', IsPrimary: true })
    const sync = await runCli(['crm', 'sync', '--data', data, '--site', 'b2b'])
    expect(sync.stdout, sync.stderr).toContain(`${id} (salesforce): 1 deal(s) written, 0 without a contact e-mail, 0 error(s)\n`)
    expect(sf.tokensIssued).toBe(1)
    expect((await runCli(['crm', 'remove', '--data', data, id])).code).toBe(0)
  })

  it('adds a Pipedrive connection with its webhook pair, pulls its deals, and lists it', async () => {
    const HOOK_PASSWORD = 'hook-password-never-printed'
    expect((await runCli(['sites', 'add', '--data', data, '--name', 'pd', '--origin', 'https://pd.example'])).code).toBe(0)
    const add = await runCli(['crm', 'add', '--data', data, '--site', 'pd', '--kind', 'pipedrive', '--api-token', pipedrive.token, '--api-base', pipedrive.url, '--webhook-user', 'closeloop', '--webhook-password', HOOK_PASSWORD])
    expect(add.code, add.stderr).toBe(0)
    const id = /CRM connection (crm_\S+) added \(pipedrive, site "pd"\)/.exec(add.stdout)?.[1]
    expect(id).toBeDefined()
    expect(add.stdout).toContain(`inbound: /v1/crm/pipedrive/${id}\n`)
    const db = readFileSync(join(data, SQLITE_FILE)).toString('latin1') + readFileSync(join(data, SQLITE_FILE + '-wal'), { flag: 'a+' }).toString('latin1')
    for (const out of [add.stdout, add.stderr, db]) {
      expect(out).not.toContain(pipedrive.token)
      expect(out).not.toContain(HOOK_PASSWORD)
    }

    pipedrive.setPerson({ id: 1, email: 'buyer@pd.example' })
    pipedrive.setDeal({ id: 42, stage_id: 3, status: 'won', value: 5000, currency: 'USD', person_id: 1, won_time: '2026-03-01T00:00:00Z', update_time: '2026-03-01T00:00:00Z' })
    pipedrive.setDeal({ id: 43, stage_id: 1, value: 1, currency: 'USD', person_id: null, update_time: '2026-03-02T00:00:00Z' })
    const sync = await runCli(['crm', 'sync', '--data', data, '--site', 'pd'])
    expect(sync.code, sync.stderr + sync.stdout).toBe(0)
    expect(sync.stdout).toBe(`${id} (pipedrive): 1 deal(s) written, 1 without a contact e-mail, 0 error(s)\n`)
    expect(pipedrive.calls.some((c) => c.path.startsWith('/api/v2/deals?sort_by=update_time&sort_direction=asc'))).toBe(true)
    const json = JSON.parse((await runCli(['crm', 'list', '--data', data, '--json'])).stdout)
    expect(json).toMatchObject([{ id, kind: 'pipedrive', site: 'pd', inbound: `/v1/crm/pipedrive/${id}`, errors: 0 }])
    expect(JSON.stringify(json)).not.toContain(HOOK_PASSWORD)

    const base = ['crm', 'add', '--data', data, '--site', 'pd', '--kind', 'pipedrive', '--api-token', 't', '--webhook-user', 'u']
    expect(expectFailure(await runCli(base), 'crm add', 'CL_ERR_BAD_CONFIG').message).toMatch(/--webhook-password/)
    expect(expectFailure(await runCli([...base, '--webhook-password', 'p', '--api-base', 'acme.pipedrive.com']), 'crm add', 'CL_ERR_BAD_CONFIG').message).toMatch(/--api-base/)
  })

  it('lists the write-backs of a connection with --write-back: sent, pending, failed and the last error', async () => {
    const add = await runCli(['crm', 'add', '--data', data, '--site', 'b2b', '--kind', 'hubspot', '--token', stub.token, '--client-secret', SECRET, '--api-base', stub.url, '--write-back'])
    expect(add.code, add.stderr).toBe(0)
    expect(add.stdout).toContain(', with write-back.')
    const id = /CRM connection (crm_\S+) added/.exec(add.stdout)![1]
    expect((await runCli(['crm', 'list', '--data', data])).stdout).toContain(`${id}\thubspot`)
    expect((await runCli(['crm', 'list', '--data', data])).stdout).toContain('\n  write-back: 0 sent, 0 pending, 0 failed\n')
    // Rows as `serve` leaves them: one sent, one waiting, one given up.
    const store = await openStore({ dataDir: data })
    const row = (target: string) => ({ connectionId: id, object: 'deal' as const, target, contactId: null, emailEnc: null, fields: '{}' })
    await store.enqueueCrmOutbox([row('1'), row('2'), row('3')], 1000)
    const due = await store.dueCrmOutbox(1000, 10, 60_000)
    await store.settleCrmOutbox(due.find((e) => e.target === '1')!.id, 1, { status: 'sent', at: 2000 })
    await store.settleCrmOutbox(due.find((e) => e.target === '3')!.id, 1, { status: 'failed', at: Date.UTC(2026, 4, 1), reason: 'HubSpot answered 404 to PATCH /crm/v3/objects/deals/3' })
    await store.close()
    const list = await runCli(['crm', 'list', '--data', data])
    expect(list.stdout).toContain('\n  write-back: 1 sent, 1 pending, 1 failed (last error 2026-05-01T00:00:00.000Z: HubSpot answered 404 to PATCH /crm/v3/objects/deals/3)\n')
    const json = JSON.parse((await runCli(['crm', 'list', '--data', data, '--json'])).stdout)
    expect(json.find((c: { id: string }) => c.id === id)).toMatchObject({ writeBack: true, writeBacks: { sent: 1, pending: 1, failed: 1, lastErrorAt: Date.UTC(2026, 4, 1) } })
  })

  it('fails with coded errors on missing or bad options', async () => {
    const base = ['crm', 'add', '--data', data, '--site', 'b2b']
    expect(expectFailure(await runCli([...base, '--kind', 'hubspot', '--token', 't']), 'crm add', 'CL_ERR_BAD_CONFIG').message).toMatch(/--client-secret/)
    expectFailure(await runCli([...base, '--kind', 'zoho', '--token', 't']), 'crm add', 'CL_ERR_UNKNOWN_CRM_KIND')
    expectFailure(await runCli([...base, '--kind', 'hubspot', '--token', 't', '--client-secret', 's', '--public-url', 'cl.example.com']), 'crm add', 'CL_ERR_BAD_CONFIG')
    expectFailure(await runCli(['crm', 'add', '--data', data, '--site', 'nope', '--kind', 'hubspot', '--token', 't', '--client-secret', 's']), 'crm add', 'CL_ERR_SITE_NOT_FOUND')
    expectFailure(await runCli(['crm', 'frob', '--data', data]), 'crm', 'CL_ERR_UNKNOWN_COMMAND')
    expect(expectFailure(await runCli([...base, '--kind', 'salesforce', '--instance-url', 'https://acme.my.salesforce.com', '--access-token', 't']), 'crm add', 'CL_ERR_BAD_CONFIG').message).toMatch(/--org-id/)
  })
})
