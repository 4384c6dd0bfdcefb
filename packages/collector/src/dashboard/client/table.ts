// A data table with caption, CSV export and optional keyboard-reachable drill-down: the first
// cell of an expandable row is a <button aria-expanded>, so Tab reaches it and Enter/Space opens
// it. Raw values sit in data-value so exports and tests never re-parse formatted text.

import { toCsv, type Cell } from './csv.js'
import { h, replace } from './dom.js'

export interface Column<R> {
  label: string
  value: (row: R) => Cell
  format?: (row: R) => string
  numeric?: boolean
  /** Makes the cell's text a link (a dashboard hash); the cell keeps its data-value. */
  link?: (row: R) => string
}

export interface TableOptions<R> {
  caption: string
  /** File name of the CSV export, without extension. */
  name: string
  columns: Column<R>[]
  rows: R[]
  /** Children of a row at a depth (0 = top), or null when the row is a leaf. */
  expand?: (row: R, depth: number) => (() => Promise<R[]>) | null
  empty?: string
}

interface Line<R> { row: R; depth: number; tr: HTMLTableRowElement; children: Line<R>[] | null }

export function dataTable<R>(opts: TableOptions<R>): HTMLElement {
  const tbody = h('tbody')
  const lines: Line<R>[] = []
  const status = h('p', { class: 'status', role: 'status' })

  const renderRow = (row: R, depth: number): Line<R> => {
    const line: Line<R> = { row, depth, tr: h('tr', { 'data-depth': depth }), children: null }
    const load = opts.expand?.(row, depth) ?? null
    opts.columns.forEach((col, i) => {
      const raw = col.value(row)
      const shown = col.format ? col.format(row) : raw === null || raw === undefined ? '' : String(raw)
      const text = col.link ? h('a', { href: col.link(row) }, shown) : shown
      const attrs = { class: col.numeric ? 'num' : null, 'data-value': raw === null || raw === undefined ? '' : String(raw) }
      if (i > 0) return line.tr.appendChild(h('td', attrs, text))
      const cell = h('th', { ...attrs, scope: 'row', class: `key d${depth}` })
      if (!load) cell.append(h('span', { class: 'leaf' }, text))
      else {
        const button = h('button', { type: 'button', class: 'drill', 'aria-expanded': 'false' }, text)
        button.addEventListener('click', () => void toggle(line, button, load))
        cell.append(button)
      }
      line.tr.appendChild(cell)
    })
    return line
  }

  const toggle = async (line: Line<R>, button: HTMLButtonElement, load: () => Promise<R[]>) => {
    if (line.children) {
      removeLines(line.children)
      line.children = null
      button.setAttribute('aria-expanded', 'false')
      return
    }
    button.setAttribute('aria-busy', 'true')
    try {
      const rows = await load()
      let after: Element = line.tr
      line.children = rows.map((r) => renderRow(r, line.depth + 1))
      for (const child of line.children) { after.after(child.tr); after = child.tr }
      button.setAttribute('aria-expanded', 'true')
      status.textContent = ''
    } catch (err) {
      status.textContent = `Could not load: ${(err as Error).message}`
    } finally {
      button.removeAttribute('aria-busy')
    }
  }

  const removeLines = (children: Line<R>[]) => {
    for (const c of children) { if (c.children) removeLines(c.children); c.tr.remove() }
  }

  for (const row of opts.rows) {
    const line = renderRow(row, 0)
    lines.push(line)
    tbody.appendChild(line.tr)
  }
  if (opts.rows.length === 0) {
    tbody.appendChild(h('tr', null, h('td', { colspan: opts.columns.length, class: 'empty' }, opts.empty ?? 'No data for this selection.')))
  }

  const visible = (): Line<R>[] => {
    const out: Line<R>[] = []
    const walk = (ls: Line<R>[]) => { for (const l of ls) { out.push(l); if (l.children) walk(l.children) } }
    walk(lines)
    return out
  }

  const exportCsv = () => {
    const header = ['level', ...opts.columns.map((c) => c.label)]
    const rows = visible().map((l) => [l.depth, ...opts.columns.map((c) => c.value(l.row))])
    download(`${opts.name}.csv`, toCsv(header, rows))
  }

  const table = h('table', { class: 'data', 'data-table': opts.name },
    h('caption', null, opts.caption),
    h('thead', null, h('tr', null, opts.columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.label)))),
    tbody)
  const wrap = h('div', { class: 'table-wrap' }, table)
  return h('section', { class: 'table-block' },
    h('div', { class: 'table-tools' },
      h('button', { type: 'button', class: 'csv', 'data-csv': opts.name, onclick: exportCsv }, `Export CSV: ${opts.caption}`)),
    wrap, status)
}

export function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }))
  const a = h('a', { href: url, download: filename })
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

export function loading(el: Element, what: string): void {
  replace(el, h('p', { class: 'status', role: 'status' }, `Loading ${what}…`))
}
