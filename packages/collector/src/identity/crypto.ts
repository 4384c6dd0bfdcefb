// Install secrets and field encryption. One 32-byte master key (CLOSELOOP_SECRET_KEY or a
// generated <dataDir>/secret.key) is never used directly: HKDF derives one subkey per purpose, so
// the suppression salt cannot decrypt anything and vice versa.

import * as nodeCrypto from 'node:crypto'
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomFillSync } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { clError } from '../errors.js'

export const SECRET_KEY_FILE = 'secret.key'
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
// Ciphertexts are `v1.` + base64url(iv ‖ tag ‖ ciphertext): compact, URL-safe, and the prefix
// leaves room to rotate the algorithm or key later without guessing.
const FORMAT_V1 = 'v1.'

export interface InstallKeys {
  /** AES-256-GCM key for personal fields (email, phone). */
  encryptionKey: Buffer
  /** HMAC key for suppression hashes of erased people. */
  suppressionSalt: Buffer
  /** AES-256-GCM key for integration secrets (CRM tokens, webhook client secrets). */
  integrationKey: Buffer
  /** HMAC key of the lead match keys (match-keys.ts `matchHash`). */
  matchKey: Buffer
}

/** Parse a 32-byte key given as 64 hex characters or base64/base64url; null when it is neither. */
export function parseMasterKey(text: string): Buffer | null {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex')
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const key = Buffer.from(t, 'base64')
    if (key.length === KEY_BYTES) return key
  }
  return null
}

/**
 * The master key: `CLOSELOOP_SECRET_KEY` when set, else `<dataDir>/secret.key`, created on first
 * use with mode 0600 (owner read/write only) so other local users cannot read it.
 */
export function loadMasterKey(options: { dataDir: string; env?: NodeJS.ProcessEnv }): Buffer {
  const fromEnv = (options.env ?? process.env).CLOSELOOP_SECRET_KEY
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = parseMasterKey(fromEnv)
    if (!key) throw clError('INTERNAL', 'CLOSELOOP_SECRET_KEY must be 32 bytes as 64 hex characters or base64')
    return key
  }
  // Created owner-only: it holds the key and (SQLite) the database.
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 })
  const file = join(options.dataDir, SECRET_KEY_FILE)
  try {
    // 'wx' fails when the file exists, so two processes starting at once never overwrite
    // each other's key; the loser reads the winner's.
    writeFileSync(file, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const key = parseMasterKey(readFileSync(file, 'utf8'))
  if (!key) throw clError('INTERNAL', `${file} does not hold a 32-byte key`)
  return key
}

export function deriveKeys(master: Buffer): InstallKeys {
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, KEY_BYTES))
  return {
    encryptionKey: derive('closeloop/encryption/v1'),
    suppressionSalt: derive('closeloop/suppression/v1'),
    integrationKey: derive('closeloop/integration-secrets/v1'),
    matchKey: derive('closeloop/match-keys/v1'),
  }
}

export function loadInstallKeys(options: { dataDir: string; env?: NodeJS.ProcessEnv }): InstallKeys {
  return deriveKeys(loadMasterKey(options))
}

// Every Hash, and every randomBytes call, makes a native object with a weak handle that each
// young-generation GC has to process (a large share of identify's scavenge pauses, see
// bench/RESULTS.md). crypto.hash (Node >= 20.12) hashes without one; IVs come from a pool of CSPRNG
// bytes refilled every 256 uses, each 12 bytes handed out once.
const oneShotHash: typeof nodeCrypto.hash | undefined = nodeCrypto.hash

/** SHA-256 hex of the UTF-8 text. */
export function sha256Hex(text: string): string {
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : createHash('sha256').update(text, 'utf8').digest('hex')
}

const ivPool = Buffer.alloc(IV_BYTES * 256)
let ivNext = ivPool.length

function freshIv(): Buffer {
  if (ivNext === ivPool.length) {
    randomFillSync(ivPool)
    ivNext = 0
  }
  const iv = Buffer.from(ivPool.subarray(ivNext, ivNext + IV_BYTES))
  ivNext += IV_BYTES
  return iv
}

export function encrypt(plaintext: string, key: Buffer): string {
  const iv = freshIv()
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return FORMAT_V1 + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

/** Throws when the token is malformed, was made with another key, or was tampered with. */
export function decrypt(token: string, key: Buffer): string {
  if (!token.startsWith(FORMAT_V1)) throw clError('INTERNAL', 'Unknown ciphertext format')
  const raw = Buffer.from(token.slice(FORMAT_V1.length), 'base64url')
  if (raw.length < IV_BYTES + TAG_BYTES) throw clError('INTERNAL', 'Ciphertext is truncated')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES))
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch {
    throw clError('INTERNAL', 'Ciphertext failed authentication')
  }
}
