// Online backup and restore of a SQLite store. The copy is `VACUUM INTO` on a read-only connection:
// one consistent snapshot while `serve` keeps writing (WAL readers and writers do not block each
// other), where the page-stepping backup API restarts whenever another connection writes and may
// never finish under steady load. The backup is one file: a magic line, a JSON header naming each
// part with its size and SHA-256, then the parts (the database and the installation's secret key,
// without which its encrypted e-mails cannot be read). It is written beside the target and renamed
// into place only once complete and synced: a failed backup never leaves a file that looks whole.

import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { chmodSync, closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { clError } from '../../errors.js'

const MAGIC = 'closeloop-backup 1\n'
const MAX_HEADER = 64 * 1024

export interface BackupPart { name: string; bytes: number; sha256: string }
export interface BackupHeader { createdAt: number; schemaVersion: number; parts: BackupPart[] }

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Removes a file if it is there; a path that cannot hold one (its folder is missing) has none. */
function removeQuietly(file: string): void {
  try { rmSync(file, { force: true }) } catch { /* nothing to remove */ }
}

function failed(err: unknown, to: string): Error {
  const e = err as NodeJS.ErrnoException
  return clError('BACKUP_FAILED', `cannot write ${to}: ${e.code ?? ''} ${e.message ?? String(err)}`.trim())
}

/** Writes a backup of the store `dbFile` (and `secretKey`, the key file's text) to `to`. */
export async function writeBackup(dbFile: string, secretKey: string, to: string): Promise<BackupHeader> {
  const partial = `${to}.partial`
  const snapshot = `${to}.partial-db`
  try {
    for (const f of [partial, snapshot]) removeQuietly(f)
    const source = new Database(dbFile, { readonly: true, fileMustExist: true })
    let schemaVersion: number
    try {
      schemaVersion = Number((source.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v)
      source.prepare('VACUUM INTO ?').run(snapshot)
    } finally {
      source.close()
    }
    const key = Buffer.from(secretKey, 'utf8')
    const header: BackupHeader = {
      createdAt: Date.now(),
      schemaVersion,
      parts: [
        { name: 'closeloop.sqlite', bytes: statSync(snapshot).size, sha256: await sha256File(snapshot) },
        { name: 'secret.key', bytes: key.length, sha256: createHash('sha256').update(key).digest('hex') },
      ],
    }
    const fd = openSync(partial, 'w', 0o600)
    try {
      writeSync(fd, MAGIC + JSON.stringify(header) + '\n')
      for await (const chunk of createReadStream(snapshot)) writeSync(fd, chunk as Buffer)
      writeSync(fd, key)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(partial, to)
    chmodSync(to, 0o600)
    return header
  } catch (err) {
    removeQuietly(partial)
    if ((err as { code?: string }).code?.startsWith('CL_ERR_')) throw err
    throw failed(err, to)
  } finally {
    removeQuietly(snapshot)
  }
}

/** The header of a backup file, or CL_ERR_BAD_BACKUP when it is not one or its size is wrong. */
export function readBackupHeader(from: string): { header: BackupHeader; offset: number } {
  if (!existsSync(from)) throw clError('FILE_NOT_FOUND', `no file ${from}`)
  const fd = openSync(from, 'r')
  try {
    const buf = Buffer.alloc(MAX_HEADER)
    const n = readSync(fd, buf, 0, MAX_HEADER, 0)
    const text = buf.subarray(0, n).toString('latin1')
    if (!text.startsWith(MAGIC)) throw clError('BAD_BACKUP', `${from} is not a Closeloop backup`)
    const end = text.indexOf('\n', MAGIC.length)
    if (end < 0) throw clError('BAD_BACKUP', `${from}: header incomplete`)
    let header: BackupHeader
    try {
      header = JSON.parse(buf.subarray(MAGIC.length, end).toString('utf8')) as BackupHeader
    } catch {
      throw clError('BAD_BACKUP', `${from}: header unreadable`)
    }
    const parts = Array.isArray(header.parts) ? header.parts : []
    const names = parts.map((p) => p.name).join(',')
    if (names !== 'closeloop.sqlite,secret.key' || parts.some((p) => !Number.isSafeInteger(p.bytes) || p.bytes < 0 || !/^[0-9a-f]{64}$/.test(p.sha256))) {
      throw clError('BAD_BACKUP', `${from}: header names unexpected parts`)
    }
    const offset = end + 1
    const expected = offset + parts.reduce((s, p) => s + p.bytes, 0)
    const size = statSync(from).size
    if (size !== expected) throw clError('BAD_BACKUP', `${from} is ${size} bytes; its header says ${expected} (truncated or appended to)`)
    return { header, offset }
  } finally {
    closeSync(fd)
  }
}

/**
 * Restores a backup into `dataDir`: every part is checked against its checksum before anything is
 * put in place, the database's integrity is checked, and a store already there is replaced only
 * with `force`.
 */
export async function restoreBackup(from: string, dataDir: string, opts: { force: boolean; dbName: string; keyName: string }): Promise<BackupHeader> {
  const { header, offset } = readBackupHeader(from)
  const db = join(dataDir, opts.dbName)
  const key = join(dataDir, opts.keyName)
  const occupied = [db, key].filter((f) => existsSync(f) && statSync(f).size > 0)
  if (occupied.length > 0 && !opts.force) throw clError('STORE_NOT_EMPTY', `${dataDir} already holds ${occupied.map((f) => f.slice(dataDir.length + 1)).join(' and ')}; restore into an empty folder or add --force`)
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const staged = [`${db}.restoring`, `${key}.restoring`]
  try {
    let at = offset
    const fd = openSync(from, 'r')
    try {
      header.parts.forEach((part, i) => {
        const out = openSync(staged[i], 'w', 0o600)
        const hash = createHash('sha256')
        const buf = Buffer.alloc(1 << 20)
        try {
          for (let left = part.bytes; left > 0;) {
            const n = readSync(fd, buf, 0, Math.min(buf.length, left), at)
            if (n <= 0) throw clError('BAD_BACKUP', `${from}: ended early`)
            hash.update(buf.subarray(0, n))
            writeSync(out, buf.subarray(0, n))
            at += n
            left -= n
          }
          fsyncSync(out)
        } finally {
          closeSync(out)
        }
        if (hash.digest('hex') !== part.sha256) throw clError('BAD_BACKUP', `${from}: ${part.name} does not match its checksum (corrupt)`)
      })
    } finally {
      closeSync(fd)
    }
    const check = new Database(staged[0], { readonly: true, fileMustExist: true })
    try {
      const result = check.pragma('integrity_check', { simple: true })
      if (result !== 'ok') throw clError('BAD_BACKUP', `${from}: the database fails its integrity check (${String(result)})`)
    } finally {
      check.close()
    }
    // The old store's WAL and shared memory belong to the old file: gone with it.
    for (const f of [`${db}-wal`, `${db}-shm`]) rmSync(f, { force: true })
    renameSync(staged[0], db)
    renameSync(staged[1], key)
    return header
  } catch (err) {
    for (const f of staged) removeQuietly(f)
    throw err
  }
}
