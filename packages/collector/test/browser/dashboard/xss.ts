// Classic XSS payloads for tracked text: markup with event handlers, a tag break-out,
// a javascript: URL, an attribute break-out and a spreadsheet formula. The dashboard must show each
// as plain text; any that ran would set window.__xss.

export const XSS = [
  '<img src=x onerror="window.__xss=1">',
  '"><script>window.__xss=1</script>',
  'javascript:window.__xss=1',
  '<svg onload="window.__xss=1"></svg>',
  "'-window.__xss=1-'",
  '=HYPERLINK("http://evil","x")',
] as const
