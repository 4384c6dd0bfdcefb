// Reading `crm add` / `destinations add` options the same way in every adapter: trimmed text,
// http(s) base URLs without a trailing slash, and `NAME=VALUE` lists (a repeated option such as
// `--action "Qualified lead=123" --action "Closed deal=456"` arrives as one string, its entries
// on separate lines; commas between entries are accepted too).

import { createHash, timingSafeEqual } from 'node:crypto'
import { clError } from '../errors.js'
import type { RawOptions } from './types.js'

export function text(raw: RawOptions, name: string): string | undefined {
  const v = raw[name]
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined
}

export function required(raw: RawOptions, name: string, what: string): string {
  const v = text(raw, name)
  if (v === undefined) throw clError('BAD_CONFIG', `--${name} is required: ${what}`)
  return v
}

/** An http(s) origin (with an optional path prefix), trailing slashes dropped. */
export function baseUrl(raw: RawOptions, name: string, fallback: string): string {
  const url = (text(raw, name) ?? fallback).replace(/\/+$/, '')
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) throw clError('BAD_CONFIG', `--${name} must be an http(s) URL`)
  return url
}

/**
 * `NAME=VALUE` entries → a map; `value` is the pattern a VALUE must match (it may not hold a comma
 * or a line break, so names may). Throws naming the option for anything else, or a name twice.
 */
export function pairs(raw: RawOptions, name: string, value: RegExp, example: string): Map<string, string> {
  const v = raw[name]
  const out = new Map<string, string>()
  if (typeof v !== 'string' || v.trim() === '') return out
  const entry = new RegExp(`\\s*([^=\\n]+?)\\s*=\\s*(${value.source})\\s*(?:[,\\n]|$)`, 'gy')
  const bad = () => clError('BAD_CONFIG', `--${name} must be NAME=VALUE entries such as ${example}`)
  let m: RegExpExecArray | null
  while (entry.lastIndex < v.length && (m = entry.exec(v)) !== null) {
    if (out.has(m[1])) throw clError('BAD_CONFIG', `--${name} names "${m[1]}" twice`)
    out.set(m[1], m[2])
  }
  if (entry.lastIndex < v.trimEnd().length || out.size === 0) throw bad()
  return out
}

/** Constant-time comparison of two secrets of any length (both hashed first, so lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest()
  return timingSafeEqual(digest(a), digest(b))
}
