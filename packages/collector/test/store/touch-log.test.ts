// TouchLog's columns: dictionary ids in two bytes until a dimension outgrows them, then four,
// with every earlier id kept; and the touch table built from them.
import { describe, expect, it } from 'vitest'
import { buildTouchTable, TouchLog } from '../../src/store/touch-log.js'

describe('TouchLog', () => {
  it('widens a dimension past 65,536 values without changing any id, and the table reads them all', () => {
    const log = new TouchLog()
    const n = 70_000
    for (let i = 0; i < n; i++) log.append(`v${String(i % 5000).padStart(6, '0')}`, 1000 + i, i % 2 ? 'Paid Search' : 'Email', 'google', 'cpc', `c${i}`)
    expect(log.channel.ids).toBeInstanceOf(Uint16Array)
    expect(log.campaign.ids).toBeInstanceOf(Int32Array)
    expect(log.campaign.keys.size).toBe(n)
    for (const i of [0, 1, 65_535, 65_536, 69_999]) expect(log.campaign.keys.keys[log.campaign.ids[i]]).toBe(`c${i}`)
    const table = buildTouchTable(log, { leads: [], visitorsOf: [] }, -Infinity, Infinity)
    expect(table.ts.length).toBe(n)
    const campaign = table.cache.get('campaign')!
    const channel = table.cache.get('channel')!
    // Every touch keeps its own campaign and its channel, in table (visitor, time) order.
    const seen = new Set<string>()
    for (let i = 0; i < n; i++) {
      const c = campaign.keys[campaign.ids[i]]
      seen.add(c)
      const k = Number(c.slice(1))
      expect(table.ts[i]).toBe(1000 + k)
      expect(channel.keys[channel.ids[i]]).toBe(k % 2 ? 'Paid Search' : 'Email')
    }
    expect(seen.size).toBe(n)
  })

  it('holds as many touches as it was sized for without growing its columns', () => {
    const log = new TouchLog(5000)
    const [ts, visitor, channel] = [log.ts, log.visitor, log.channel.ids]
    for (let i = 0; i < 5000; i++) log.append(`v${i % 70}`, i, 'Email', 's', 'm', null)
    expect([log.ts, log.visitor, log.channel.ids]).toEqual([ts, visitor, channel])
    expect(log.ts === ts && log.visitor === visitor && log.channel.ids === channel).toBe(true)
    log.append('v-next', 5000, 'Email', 's', 'm', null)
    expect(log.ts).not.toBe(ts)
    expect(log.ts[5000]).toBe(5000)
    expect(log.ts[4999]).toBe(4999)
  })
})
