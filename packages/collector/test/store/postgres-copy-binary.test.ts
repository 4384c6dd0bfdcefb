// The binary COPY decoder against the bytes a real PostgreSQL server sends (an unreachable server
// fails this file), delivered whole and cut at every byte.

import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyInt8, copyText, CopyFormatError, readBinaryCopy, type CopyRow } from '../../src/store/postgres/copy-binary.js'

const URL = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 5000 })

const VALUES: Array<[string | null, number, string | null]> = [
  ['plain', 1_700_000_000_000, 'x'],
  [null, -8_640_000_000_000_000, ''],
  ['tab\there, newline\nthere, back\\slash, "quote"', 0, null],
  ['emoji 🎉 and ☃ and é', 4_102_444_800_000, 'ünïcödé'],
  ['long ' + 'y'.repeat(200_000), 9_007_199_254_740_991, 'after the long one'],
]

beforeAll(async () => {
  try {
    await client.connect()
  } catch (err) {
    throw new Error(`PostgreSQL is unreachable at ${URL} (set CLOSELOOP_TEST_DATABASE_URL): ${(err as Error).message}`)
  }
  await client.query('CREATE TEMP TABLE copy_probe (n INT, a TEXT, ts BIGINT, b TEXT)')
  for (const [i, [a, ts, b]] of VALUES.entries()) await client.query('INSERT INTO copy_probe VALUES ($1, $2, $3, $4)', [i, a, ts, b])
})

afterAll(async () => {
  await client.end()
})

const SQL = 'COPY (SELECT a, ts, b FROM copy_probe ORDER BY n) TO STDOUT (FORMAT binary)'
const decode = (r: CopyRow): [string | null, number, string | null] => [copyText(r, 0), copyInt8(r, 1), copyText(r, 2)]

async function rawBytes(): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of client.query(copyTo(SQL)) as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks)
}

async function* pieces(buf: Buffer, cuts: number[]): AsyncIterable<Buffer> {
  let from = 0
  for (const at of [...cuts, buf.length]) {
    yield buf.subarray(from, at)
    from = at
  }
}

describe('readBinaryCopy', () => {
  it('decodes text, NULL and int8 fields as PostgreSQL sends them, rows spanning chunks included', async () => {
    const rows: Array<[string | null, number, string | null]> = []
    const n = await readBinaryCopy(client.query(copyTo(SQL)) as AsyncIterable<Buffer>, 3, (r) => rows.push(decode(r)))
    expect(n).toBe(VALUES.length)
    expect(rows).toEqual(VALUES)
  })

  it('gives the same rows wherever the stream is cut', async () => {
    const small = await (async () => {
      await client.query('CREATE TEMP TABLE copy_small AS SELECT * FROM copy_probe WHERE n < 4')
      const chunks: Buffer[] = []
      for await (const c of client.query(copyTo('COPY (SELECT a, ts, b FROM copy_small ORDER BY n) TO STDOUT (FORMAT binary)')) as AsyncIterable<Buffer>) chunks.push(c)
      return Buffer.concat(chunks)
    })()
    for (let at = 1; at < small.length; at++) {
      const rows: Array<[string | null, number, string | null]> = []
      await readBinaryCopy(pieces(small, [at, Math.min(small.length, at + 7)]), 3, (r) => rows.push(decode(r)))
      expect(rows, `cut at ${at}`).toEqual(VALUES.slice(0, 4))
    }
  })

  it('refuses a stream that is not binary COPY, is cut short or has other columns', async () => {
    const bytes = await rawBytes()
    await expect(readBinaryCopy(pieces(Buffer.from('a\tb\n1\t2\n'.repeat(4)), []), 3, () => {})).rejects.toThrow(CopyFormatError)
    await expect(readBinaryCopy(pieces(bytes.subarray(0, bytes.length - 2), []), 3, () => {})).rejects.toThrow(/trailer/)
    await expect(readBinaryCopy(pieces(bytes, []), 4, () => {})).rejects.toThrow(/expected 4 fields, got 3/)
    await expect(readBinaryCopy(pieces(bytes, []), 3, (r) => copyInt8(r, 0))).rejects.toThrow(/not an int8/)
  })
})
