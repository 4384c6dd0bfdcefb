import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decrypt, deriveKeys, encrypt, loadInstallKeys, loadMasterKey, parseMasterKey, SECRET_KEY_FILE, sha256Hex } from '../../../src/identity/crypto.js'

const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'closeloop-crypto-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('encrypt / decrypt (AES-256-GCM)', () => {
  const key = randomBytes(32)

  it('round-trips, with a fresh IV each time', () => {
    const a = encrypt('ada@example.com', key)
    const b = encrypt('ada@example.com', key)
    expect(a).not.toBe(b)
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]+$/)
    expect(a).not.toContain('ada')
    expect(decrypt(a, key)).toBe('ada@example.com')
    expect(decrypt(encrypt('', key), key)).toBe('')
    expect(decrypt(encrypt('ünïcødé ✓', key), key)).toBe('ünïcødé ✓')
  })

  it('never hands out an IV twice, across refills of the IV pool', () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => encrypt(`p${i}@example.com`, key))
    const ivs = tokens.map((t) => Buffer.from(t.slice(3), 'base64url').subarray(0, 12).toString('hex'))
    expect(new Set(ivs).size).toBe(tokens.length)
    tokens.forEach((t, i) => expect(decrypt(t, key)).toBe(`p${i}@example.com`))
  })

  it('rejects a wrong key, a flipped bit, truncation and unknown formats', () => {
    const token = encrypt('secret', key)
    expect(() => decrypt(token, randomBytes(32))).toThrow(/authentication/)
    const raw = Buffer.from(token.slice(3), 'base64url')
    raw[raw.length - 1] ^= 1
    expect(() => decrypt('v1.' + raw.toString('base64url'), key)).toThrow(/authentication/)
    expect(() => decrypt('v1.AAAA', key)).toThrow(/truncated/)
    expect(() => decrypt('v2.' + token.slice(3), key)).toThrow(/format/)
    try {
      decrypt(token, randomBytes(32))
    } catch (err) {
      expect((err as { code?: string }).code).toMatch(/^CL_ERR_/)
    }
  })
})

describe('install keys', () => {
  it('creates <dataDir>/secret.key once, mode 0600, and reuses it', () => {
    const dir = join(tempDir(), 'nested', 'data')
    const k1 = loadMasterKey({ dataDir: dir, env: {} })
    const file = join(dir, SECRET_KEY_FILE)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(k1).toHaveLength(32)
    const k2 = loadMasterKey({ dataDir: dir, env: {} })
    expect(k2.equals(k1)).toBe(true)
    expect(parseMasterKey(readFileSync(file, 'utf8'))?.equals(k1)).toBe(true)
  })

  it('prefers CLOSELOOP_SECRET_KEY, as hex or base64, and writes no file then', () => {
    const dir = tempDir()
    const raw = randomBytes(32)
    expect(loadMasterKey({ dataDir: dir, env: { CLOSELOOP_SECRET_KEY: raw.toString('hex') } }).equals(raw)).toBe(true)
    expect(loadMasterKey({ dataDir: dir, env: { CLOSELOOP_SECRET_KEY: raw.toString('base64') } }).equals(raw)).toBe(true)
    expect(() => statSync(join(dir, SECRET_KEY_FILE))).toThrow()
    expect(() => loadMasterKey({ dataDir: dir, env: { CLOSELOOP_SECRET_KEY: 'too-short' } })).toThrow(/32 bytes/)
    expect(() => loadMasterKey({ dataDir: dir, env: { CLOSELOOP_SECRET_KEY: randomBytes(16).toString('hex') } })).toThrow(/32 bytes/)
  })

  it('refuses a corrupt key file instead of silently replacing it', () => {
    const dir = tempDir()
    writeFileSync(join(dir, SECRET_KEY_FILE), 'garbage', { mode: 0o600 })
    expect(() => loadMasterKey({ dataDir: dir, env: {} })).toThrow(/32-byte/)
  })

  it('derives independent subkeys, stable for one master key', () => {
    const master = randomBytes(32)
    const a = deriveKeys(master)
    const b = deriveKeys(Buffer.from(master))
    expect(a.encryptionKey.equals(b.encryptionKey)).toBe(true)
    expect(a.suppressionSalt.equals(b.suppressionSalt)).toBe(true)
    expect(a.encryptionKey.equals(a.suppressionSalt)).toBe(false)
    expect(a.integrationKey.equals(b.integrationKey)).toBe(true)
    expect([a.encryptionKey, a.suppressionSalt].some((k) => k.equals(a.integrationKey))).toBe(false)
    expect(a.encryptionKey.equals(master)).toBe(false)
    // Data encrypted under one install cannot be read by another.
    const other = loadInstallKeys({ dataDir: tempDir(), env: {} })
    expect(() => decrypt(encrypt('x', a.encryptionKey), other.encryptionKey)).toThrow()
  })
})

describe('sha256Hex', () => {
  it('is SHA-256 of the UTF-8 text, in hex', () => {
    for (const text of ['', 'ada@example.com', 'ünïcødé ✓', 'sk_' + 'x'.repeat(40)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'))
    }
  })
})
