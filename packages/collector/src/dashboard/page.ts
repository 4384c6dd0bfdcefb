// The dashboard's HTML shell and its security headers. The page carries no data and no inline
// script: everything is fetched as JSON by the bundled client and rendered as text nodes.

export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Closeloop</title>
<link rel="stylesheet" href="assets/styles.css">
<script type="module" src="assets/main.js"></script>
</head>
<body>
<div id="app"><noscript>The Closeloop dashboard needs JavaScript.</noscript></div>
</body>
</html>
`

// `require-trusted-types-for 'script'` with no policy allowed makes any string-to-HTML sink
// (innerHTML, insertAdjacentHTML, document.write) throw in Chromium: a second lock behind the
// text-node-only rendering in client/dom.ts.
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ')

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}
