// A raw HTTP/1.1 client over a TCP socket, for the fuzzer: fetch and node:http refuse to send
// control characters in headers, lone surrogates as raw bytes and truncated bodies, which is
// exactly what a fuzzer must send. One request per connection (Connection: close).
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /**
   * The connection was reset before the whole body arrived: a server that answers early (a GET
   * that ignores a 10 MiB body) and closes makes the kernel reset the connection while the client
   * still writes, which can drop the end of the answer. Only the status line and headers count.
   */
  truncated: boolean;
}

/**
 * WTF-8: UTF-8 that keeps a lone surrogate as its own three bytes (ED A0 80 for U+D800), where
 * Buffer.from would replace it by U+FFFD. A well-formed string encodes as plain UTF-8.
 */
export function wtf8(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
      i++;
    }
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Buffer.from(bytes);
}

/** Percent-encodes every byte but unreserved ones, lone surrogates included (as WTF-8). */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of wtf8(text)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parse(data: Buffer): RawResponse | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = data.subarray(end + 4);
  let truncated = false;
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    truncated = !body.includes('\r\n0\r\n');
    body = dechunk(body);
  } else if (headers['content-length'] !== undefined) {
    truncated = body.length < Number(headers['content-length']);
    body = body.subarray(0, Number(headers['content-length']));
  }
  return { status: Number(match[1]), headers, body, truncated };
}

/** How long one request may take before the fuzzer calls it a hang. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Sends one request. `headers` values are raw bytes (latin1 strings or Buffers) and are sent as
 * they are; Content-Length is added for a body unless `headers` has one.
 */
export function rawRequest(
  port: number, method: string, target: string, headers: Array<[string, string | Buffer]>, body?: Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const response = parse(Buffer.concat(chunks));
      if (response) resolve(response);
      else reject(error ?? new Error(`no HTTP response to ${method} ${target}`));
    };
    const timer = setTimeout(() => finish(new Error(`${method} ${target}: no answer in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // The server may answer (413, 415) and close before the body is written: keep its answer.
    socket.on('error', (error) => finish(error));
    const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
    const head: Buffer[] = [Buffer.from(lines.join('\r\n') + '\r\n', 'latin1')];
    for (const [name, value] of headers) {
      head.push(Buffer.from(`${name}: `, 'latin1'), Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'), Buffer.from('\r\n'));
    }
    const hasLength = headers.some(([name]) => name.toLowerCase() === 'content-length');
    if (body && !hasLength) head.push(Buffer.from(`Content-Length: ${body.length}\r\n`));
    head.push(Buffer.from('\r\n'));
    socket.write(Buffer.concat(head));
    if (body) socket.write(body);
  });
}
