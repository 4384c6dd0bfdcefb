import { defineConfig } from 'vitest/config'

// Tests by kind, each a vitest project (`vitest run --project unit`): unit (pure, no I/O), store (the
// storage contract on a real SQLite file and a real PostgreSQL), http (a listening collector), process
// (the CLI and the server as child processes) and browser (real Chromium).
const KINDS = ['unit', 'store', 'http', 'process', 'browser'] as const

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: KINDS.map((name) => ({ extends: true, test: { name, include: [`test/${name}/**/*.test.ts`] } })),
  },
})
