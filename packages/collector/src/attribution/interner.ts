// String keys ↔ dense integer ids.

export class Interner {
  readonly keys: string[] = []
  private readonly ids = new Map<string, number>()
  id(key: string): number {
    let id = this.ids.get(key)
    if (id === undefined) {
      id = this.keys.length
      this.keys.push(key)
      this.ids.set(key, id)
    }
    return id
  }
  find(key: string): number | undefined {
    return this.ids.get(key)
  }
  get size(): number {
    return this.keys.length
  }
}

export interface KeyColumn {
  /** Key id of each touch, in table order. */
  ids: Int32Array
  keys: string[]
}
