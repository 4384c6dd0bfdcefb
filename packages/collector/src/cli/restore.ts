// `closeloop restore`: see cli/backup.ts.
export { restore as run } from './backup.js'
