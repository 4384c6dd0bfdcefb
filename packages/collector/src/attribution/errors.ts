// The one error the attribution engine throws. The engine is pure and knows nothing of HTTP or
// CL_ERR_ codes: errors.ts (toClError, asClError) maps each reason to the client-facing code.

export type AttributionErrorReason =
  /** An option the caller passed is not valid (unknown model, bad number, from after to, …). */
  | 'invalid_option'
  /** The input is too large or too tangled to compute exactly; a coarser query may succeed. */
  | 'too_complex'
  /** A broken internal assumption: a bug, not the caller's fault. */
  | 'internal'

export class AttributionError extends Error {
  override readonly name = 'AttributionError'
  constructor(readonly reason: AttributionErrorReason, message: string) {
    super(message)
  }
}
