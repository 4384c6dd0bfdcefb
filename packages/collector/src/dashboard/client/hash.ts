// Links between views that name one thing (`#journey/<lead ID>`, `#account/<account ID>`), keeping
// the report query the current hash carries after `?` (main.ts) so the report views keep their filters.

export function hashTo(view: 'journey' | 'account', id: string): string {
  const cut = location.hash.indexOf('?')
  return `#${view}${id ? `/${encodeURIComponent(id)}` : ''}${cut < 0 ? '' : location.hash.slice(cut)}`
}
