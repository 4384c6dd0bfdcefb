// Site keys (conventions): public `pk_` + 21 chars; secret `sk_` + 8-char key ID + 32-char secret,
// all from the nanoid alphabet. Secret keys are stored only as SHA-256 of the whole key, found by
// their key ID and compared in constant time.

import { timingSafeEqual } from 'node:crypto'
import { nanoid } from 'nanoid'
import { sha256Hex } from '../identity/crypto.js'

const NANOID_CHARS = 'A-Za-z0-9_-'
const PUBLIC_KEY_RE = new RegExp(`^pk_[${NANOID_CHARS}]{21}$`)
const SECRET_KEY_RE = new RegExp(`^sk_([${NANOID_CHARS}]{8})[${NANOID_CHARS}]{32}$`)

export interface SecretKey {
  /** The whole key: shown once, never stored. */
  key: string
  keyId: string
  /** SHA-256 hex of `key`. */
  hash: string
}

export function generatePublicKey(): string {
  return `pk_${nanoid(21)}`
}

export function generateSecretKey(): SecretKey {
  const keyId = nanoid(8)
  const key = `sk_${keyId}${nanoid(32)}`
  return { key, keyId, hash: hashSecretKey(key) }
}

export function hashSecretKey(key: string): string {
  return sha256Hex(key)
}

export function isPublicKey(value: string): boolean {
  return PUBLIC_KEY_RE.test(value)
}

/** Key ID of a well-formed secret key, else null. */
export function secretKeyId(value: string): string | null {
  return SECRET_KEY_RE.exec(value)?.[1] ?? null
}

/** Constant-time check of a presented key against the stored hash. */
export function verifySecretKey(presented: string, storedHashHex: string): boolean {
  const a = Buffer.from(hashSecretKey(presented), 'hex')
  const b = Buffer.from(storedHashHex, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}
