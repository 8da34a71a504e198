// The hosted PIN page's HTML: a form with no script and no external asset. Every value put in the
// page is escaped; the only style is inline, allowed by a per-response nonce in the CSP, and the
// page cannot be framed, cached, sniffed or leak its URL (which holds the token) as a referrer.
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.3rem}label{display:block;margin:1rem 0 .3rem}
input{font-size:1.4rem;letter-spacing:.4rem;width:6rem;padding:.3rem}
button{margin-top:1.2rem;font-size:1rem;padding:.5rem 1.2rem}.error{color:#a40000}`;

/**
 * The skeleton of a hosted page (PIN, reveal): the style and an optional script run only under the
 * page's CSP nonce.
 */
export interface HostedPage { nonce: string; style: string; title: string; body: string; script?: string }

export function hostedPage({ nonce, style, title, body, script }: HostedPage): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${style}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
${script ? `<script nonce="${nonce}">${script}</script>\n` : ''}</body>
</html>
`;
}

function page(nonce: string, title: string, body: string): string {
  return hostedPage({ nonce, style: STYLE, title, body });
}

/** The form; it posts to its own URL (no action attribute), so the token is never written out. */
export function pinForm(nonce: string, lastFour: string, error?: string): string {
  const problem = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>\n` : '';
  return page(nonce, 'Choose your card PIN', `<p>Card ending in ${escapeHtml(lastFour)}. Choose 4 digits that are hard to guess.</p>
${problem}<form method="post" autocomplete="off">
<label for="pin">New PIN</label>
<input id="pin" name="pin" type="password" inputmode="numeric" pattern="[0-9]{4}" minlength="4" maxlength="4" required autocomplete="off">
<label for="pinConfirmation">Repeat the PIN</label>
<input id="pinConfirmation" name="pinConfirmation" type="password" inputmode="numeric" pattern="[0-9]{4}" minlength="4" maxlength="4" required autocomplete="off">
<button type="submit">Set PIN</button>
</form>`);
}

export function messagePage(nonce: string, title: string, text: string): string {
  return page(nonce, title, `<p>${escapeHtml(text)}</p>`);
}

/** Sends an HTML page with the security headers every hosted PIN page carries. */
export function sendPage(reply: FastifyReply, statusCode: number, render: (nonce: string) => string) {
  const nonce = randomBytes(16).toString('base64');
  return reply
    .code(statusCode)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .send(render(nonce));
}
