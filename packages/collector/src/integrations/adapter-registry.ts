// Kind → adapter lookup, shared by the CRM and the destination registries: an unknown kind, or
// one this build has no adapter for, is a coded error rather than an undefined.

import { clError, type ErrorName } from '../errors.js'

export interface RegistryOptions<K extends string> {
  /** Every kind the product names, in display order. */
  kinds: readonly K[]
  /** Thrown by `get` for a kind that is not one of them or has no adapter. */
  error: ErrorName
  /** What a kind is of, for messages ("CRM", "destination"). */
  noun: string
}

export class AdapterRegistry<K extends string, A extends { readonly kind: K }> {
  private readonly byKind = new Map<string, A>()

  constructor(private readonly opts: RegistryOptions<K>, adapters: readonly A[]) {
    for (const a of adapters) {
      if (this.byKind.has(a.kind)) throw new Error(`two ${opts.noun} adapters of kind "${a.kind}"`)
      this.byKind.set(a.kind, a)
    }
  }

  /** True for a kind the product names (whether or not an adapter is registered for it). */
  isKind(kind: string): kind is K {
    return (this.opts.kinds as readonly string[]).includes(kind)
  }

  /** The adapter of `kind`; throws the registry's coded error when there is none. */
  get(kind: string): A {
    const a = this.byKind.get(kind)
    if (a !== undefined) return a
    const known = this.opts.kinds.join(', ')
    if (!this.isKind(kind)) throw clError(this.opts.error, `Unknown ${this.opts.noun} kind "${kind.slice(0, 40)}"; use one of ${known}`)
    throw clError(this.opts.error, `No ${this.opts.noun} adapter for kind "${kind}" in this build`)
  }

  /** Kinds that have an adapter, in the product's order. */
  available(): K[] {
    return this.opts.kinds.filter((k) => this.byKind.has(k))
  }
}
