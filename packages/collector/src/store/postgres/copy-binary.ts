// Rows of `COPY (...) TO STDOUT (FORMAT binary)` decoded as they stream, for reads of a million
// rows: the `pg` driver makes a JS value of every field through its type parsers, which at 1M
// touches was most of a PostgreSQL report's load. Here a row is a set of byte ranges in one buffer
// and the caller decodes only what it keeps (text as UTF-8, int8 as a number).
//
// Format (PostgreSQL docs, "COPY ... Binary Format"): an 11-byte signature, a 32-bit flags field
// and a 32-bit header-extension length (then that many bytes); each tuple is a 16-bit field count
// (-1 ends the data), then per field a 32-bit length (-1 for NULL) and that many bytes.

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')

/** One decoded row: field k is `buf[start[k], start[k] + length[k])`, or NULL when length[k] is -1. */
export interface CopyRow {
  buf: Buffer
  readonly start: Int32Array
  readonly length: Int32Array
}

export class CopyFormatError extends Error {}

/**
 * Feeds `onRow` each row of a binary COPY stream with `fields` columns. The row object is reused:
 * read it inside the callback. Rows may span chunks; a chunk's complete rows are decoded in place.
 */
export async function readBinaryCopy(stream: AsyncIterable<Buffer>, fields: number, onRow: (row: CopyRow) => void): Promise<number> {
  const row: CopyRow = { buf: Buffer.alloc(0), start: new Int32Array(fields), length: new Int32Array(fields) }
  let rest: Buffer | null = null
  let header = true
  let ended = false
  let rows = 0
  for await (const chunk of stream) {
    if (ended) continue
    const buf: Buffer = rest === null ? chunk : Buffer.concat([rest, chunk])
    let p = 0
    if (header) {
      if (buf.length < SIGNATURE.length + 8) {
        rest = buf
        continue
      }
      if (!buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new CopyFormatError('not a binary COPY stream')
      const extension = buf.readInt32BE(SIGNATURE.length + 4)
      if (buf.length < SIGNATURE.length + 8 + extension) {
        rest = buf
        continue
      }
      p = SIGNATURE.length + 8 + extension
      header = false
    }
    row.buf = buf
    for (;;) {
      const end = decodeRow(buf, p, fields, row)
      if (end === INCOMPLETE) break
      if (end === TRAILER) {
        p = buf.length
        ended = true
        break
      }
      onRow(row)
      rows++
      p = end
    }
    rest = p < buf.length ? buf.subarray(p) : null
  }
  if (!ended) throw new CopyFormatError('binary COPY stream ended without its trailer')
  return rows
}

const INCOMPLETE = -1
const TRAILER = -2

/** The offset after the row at `p`, or INCOMPLETE when the buffer ends inside it, or TRAILER. */
function decodeRow(buf: Buffer, p: number, fields: number, row: CopyRow): number {
  if (p + 2 > buf.length) return INCOMPLETE
  const n = buf.readInt16BE(p)
  if (n === -1) return TRAILER
  if (n !== fields) throw new CopyFormatError(`expected ${fields} fields, got ${n}`)
  let q = p + 2
  for (let k = 0; k < n; k++) {
    if (q + 4 > buf.length) return INCOMPLETE
    const len = buf.readInt32BE(q)
    q += 4
    row.start[k] = q
    row.length[k] = len
    if (len > 0) {
      q += len
      if (q > buf.length) return INCOMPLETE
    }
  }
  return q
}

/** Field k as UTF-8 text, or null. */
export function copyText(row: CopyRow, k: number): string | null {
  const len = row.length[k]
  return len < 0 ? null : row.buf.toString('utf8', row.start[k], row.start[k] + len)
}

/** Field k, an int8 (BIGINT) column, as a number (exact below 2^53 in magnitude). */
export function copyInt8(row: CopyRow, k: number): number {
  if (row.length[k] !== 8) throw new CopyFormatError(`field ${k} is not an int8`)
  const at = row.start[k]
  return row.buf.readInt32BE(at) * 4294967296 + row.buf.readUInt32BE(at + 4)
}
