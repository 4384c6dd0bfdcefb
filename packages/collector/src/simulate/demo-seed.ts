// `closeloop demo` seeds a simulated business once per data directory, through the real API, so a
// newcomer's dashboard and `closeloop report` show meaningful numbers at once.

import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { driveSimulation, type DriveSummary } from './drive.js'

// 89 days up to the start of today: with today, the dashboard's default range (the last 90 days)
// holds all of it, and its comparison with the 90 days before finds no seeded spend there (a 90th
// day fell into that earlier period and showed spend "+8,836%").
export const DEMO_SIMULATION = { seed: 2026, visitors: 3_000, days: 89 } as const

export async function seedDemo(o: { baseUrl: string; secretKey: string; dataDir: string; log?: (line: string) => void }): Promise<DriveSummary | null> {
  const marker = join(o.dataDir, 'simulated.json')
  if (existsSync(marker)) return null
  const log = o.log ?? ((line: string) => process.stdout.write(line + '\n'))
  log(`Seeding a simulated business (${DEMO_SIMULATION.visitors.toLocaleString('en-US')} visitors over ${DEMO_SIMULATION.days} days) through the API…`)
  const summary = await driveSimulation({ ...DEMO_SIMULATION, baseUrl: o.baseUrl, secretKey: o.secretKey })
  await writeFile(marker, JSON.stringify({ ...DEMO_SIMULATION, ...summary, at: new Date().toISOString() }, null, 2) + '\n')
  log(`  ${summary.touches} touches, ${summary.leads} leads, ${summary.wonDeals} won deals, ${summary.spendRows} spend rows in ${(summary.ms / 1000).toFixed(1)} s`)
  return summary
}
