// The hosted reveal page's HTML: PAN, CVV and expiry with copy buttons. The only style and the
// only script are inline and allowed by a per-response nonce in the CSP; nothing is loaded from
// elsewhere. The page may be framed only by the session's allowedOrigin, is never cached, never
// sniffed, and never leaks its URL (which holds the token) as a referrer.
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { escapeHtml, hostedPage } from './card-pin-page.ts';
import type { RevealedCard } from './card-reveal.schemas.ts';

/** Random bytes of the per-response CSP nonce. */
const NONCE_BYTES = 16;
/** Digits per group in the displayed PAN, as printed on cards. */
const PAN_GROUP = 4;

const STYLE = `body{font-family:system-ui,sans-serif;max-width:24rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.2rem}dl{display:grid;grid-template-columns:auto 1fr auto;gap:.5rem 1rem;align-items:center}
dt{color:#555}dd{margin:0;font-family:ui-monospace,monospace;font-size:1.2rem;letter-spacing:.1rem}
button{font-size:.9rem;padding:.2rem .7rem}`;

// Copies the text of the element a button names, without spaces; no value is in the script.
const SCRIPT = `for (const b of document.querySelectorAll('button[data-copy]')) {
  b.addEventListener('click', () => {
    const text = document.getElementById(b.dataset.copy).textContent.replace(/\\s/g, '');
    navigator.clipboard.writeText(text).then(() => { b.textContent = 'Copied'; });
  });
}`;

function page(nonce: string, title: string, body: string, script: boolean): string {
  return hostedPage({ nonce, style: STYLE, title, body, script: script ? SCRIPT : undefined });
}

export function groupPan(pan: string): string {
  return pan.match(new RegExp(`.{1,${PAN_GROUP}}`, 'g'))!.join(' ');
}

const row = (id: string, label: string, value: string) =>
  `<dt>${label}</dt><dd id="${id}">${escapeHtml(value)}</dd><dd><button type="button" data-copy="${id}">Copy</button></dd>`;

export function revealPage(nonce: string, card: RevealedCard): string {
  const expiry = `${String(card.expiryMonth).padStart(2, '0')}/${String(card.expiryYear % 100).padStart(2, '0')}`;
  return page(nonce, 'Your card details', `<dl>
${row('pan', 'Card number', groupPan(card.pan))}
${row('expiry', 'Expiry', expiry)}
${row('cvv', 'CVV', card.cvv)}
</dl>
<p>This page works once. Do not share these details.</p>`, true);
}

export function revealMessagePage(nonce: string, title: string, text: string): string {
  return page(nonce, title, `<p>${escapeHtml(text)}</p>`, false);
}

/** The CSP of a reveal page: framed only by `allowedOrigin`, or by nobody. */
export function revealCsp(nonce: string, allowedOrigin: string | null): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; ` +
    `form-action 'none'; base-uri 'none'; frame-ancestors ${allowedOrigin ?? "'none'"}`;
}

/** Sends a reveal page (or its error page) with the security headers every one carries. */
export function sendRevealPage(reply: FastifyReply, statusCode: number, allowedOrigin: string | null,
  render: (nonce: string) => string) {
  const nonce = randomBytes(NONCE_BYTES).toString('base64');
  // X-Frame-Options cannot name an origin; browsers that know CSP use frame-ancestors instead.
  if (!allowedOrigin) reply.header('x-frame-options', 'DENY');
  return reply
    .code(statusCode)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', revealCsp(nonce, allowedOrigin))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(render(nonce));
}
