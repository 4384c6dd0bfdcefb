// Shared helpers for browser and end-to-end tests.
export * from './browser.js'
export * from './collect-recorder.js'
export * from './site-server.js'
export * from './tracker-fixture.js'
export * from './tracker-page.js'
export * from './wait.js'
