// Sign-in: the secret key goes once to the server, which answers with an HttpOnly session
// cookie. The field is cleared right after, so the key does not linger in the DOM.

import { ApiError, api } from '../api.js'
import { h } from '../dom.js'
import type { SessionInfo } from '../types.js'

export function signInView(onSignedIn: (s: SessionInfo) => void): HTMLElement {
  const input = h('input', { id: 'secret-key', name: 'key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'secret-key-hint' })
  const error = h('p', { id: 'signin-error', class: 'error', role: 'alert' })
  const button = h('button', { type: 'submit' }, 'Sign in')
  const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Closeloop dashboard'),
    h('label', { for: 'secret-key' }, 'Secret key'),
    input,
    h('p', { id: 'secret-key-hint', class: 'hint' }, 'The site’s secret key (sk_…), as printed by “closeloop sites add”.'),
    button, error)
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    error.textContent = ''
    button.disabled = true
    try {
      const session = await api.signIn(input.value.trim())
      input.value = ''
      onSignedIn(session)
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? 'That secret key is not valid.'
        : `Sign-in failed: ${(err as Error).message}`
      input.focus()
    } finally {
      button.disabled = false
    }
  })
  queueMicrotask(() => input.focus())
  return h('main', { id: 'main' }, form)
}
