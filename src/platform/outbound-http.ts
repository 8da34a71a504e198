// Outbound HTTP to URLs that customers configure (the authorization decision webhook, webhook
// endpoints). Every call is bounded: a total deadline that covers DNS, connect and the response
// body, a cap on the bytes read, no redirects. Unless private targets are allowed
// (PAYGEN_WEBHOOK_ALLOW_PRIVATE), loopback, private, link-local and other non-public addresses are
// refused — for IP literals before connecting and for host names on the addresses DNS returns, at
// the moment of connecting, so a name that re-resolves to an internal address cannot slip through.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Sockets kept open per agent, so that a hot decision webhook does not pay a handshake each time. */
const MAX_SOCKETS_PER_AGENT = 256;
const MAX_FREE_SOCKETS_PER_AGENT = 64;
const MAX_URL_LENGTH = 2048;

export type OutboundFailure = 'invalid_url' | 'refused_address' | 'timeout' | 'connection';

/** Why an outbound call gave no HTTP response; `message` is safe to show to the customer. */
export class OutboundError extends Error {
  latencyMs = 0;
  constructor(readonly kind: OutboundFailure, message: string) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface OutboundRequest {
  url: string;
  method?: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: string;
  /** Deadline for the whole exchange, from DNS to the last byte of the response. */
  timeoutMs: number;
  /** Bytes of the response body kept; a longer body is cut there and flagged `truncated`. */
  maxResponseBytes: number;
  /** Allow loopback and private targets (PAYGEN_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  truncated: boolean;
  latencyMs: number;
}

// Non-public ranges (RFC 6890 and friends). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
// checked against the IPv4 rules by BlockList itself. The IPv6 list also refuses, whole, the
// translation prefixes that reach an IPv4 address through a gateway the caller does not control:
// IPv4-compatible (::/96), SIIT-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96 and the local-use
// 64:ff9b:1::/48) and Teredo (2001::/32). 6to4 (2002::/16) is checked on the IPv4 address it embeds.
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 96], ['::ffff:0:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 32],
  ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) NON_PUBLIC.addSubnet(network, prefix, 'ipv6');

const SIX_TO_FOUR = new BlockList();
SIX_TO_FOUR.addSubnet('2002::', 16, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part counts as two). */
function ipv6Groups(address: string): number[] {
  const [head, tail = ''] = address.split('::');
  const parse = (part: string) => part.split(':').filter(Boolean).flatMap((group) => {
    if (!group.includes('.')) return [parseInt(group, 16)];
    const [a, b, c, d] = group.split('.').map(Number);
    return [(a << 8) | b, (c << 8) | d];
  });
  const left = parse(head);
  const right = address.includes('::') ? parse(tail) : [];
  return [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
}

/** The IPv4 address a 6to4 address (2002:AABB:CCDD::/48) routes to. */
function sixToFourTarget(address: string): string {
  const [, high, low] = ipv6Groups(address);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** True for loopback, private, link-local, shared, multicast, reserved and documentation addresses. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return NON_PUBLIC.check(address, 'ipv4');
  if (NON_PUBLIC.check(address, 'ipv6')) return true;
  return SIX_TO_FOUR.check(address, 'ipv6') && NON_PUBLIC.check(sixToFourTarget(address), 'ipv4');
}

/**
 * `localhost` and every name under it are loopback by definition (RFC 6761), whatever a resolver
 * says, in any case and with any number of trailing dots (`localhost.` is the same name).
 */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** Parses and checks a target URL: http(s) only, and no non-public IP literal unless allowed. */
export function checkOutboundUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('invalid_url', 'The URL is not valid.');
  }
  if (raw.length > MAX_URL_LENGTH) throw new OutboundError('invalid_url', `The URL is longer than ${MAX_URL_LENGTH} characters.`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('invalid_url', `Only http and https URLs are called, not ${url.protocol}`);
  if (url.username || url.password) throw new OutboundError('invalid_url', 'URLs with credentials are not called.');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowPrivate && isIP(host) && isNonPublicAddress(host)) {
    throw new OutboundError('refused_address', `${host} is a private, loopback or otherwise non-public address; private targets are not allowed (PAYGEN_WEBHOOK_ALLOW_PRIVATE=false).`);
  }
  // Refused before any DNS query, with the address it stands for, so the message reads the same
  // at creation and at delivery.
  if (!allowPrivate && isLoopbackName(host)) {
    throw new OutboundError('refused_address', `${host} resolves to 127.0.0.1, a private, loopback or otherwise non-public `
      + 'address (every *.localhost name is loopback); private targets are not allowed (PAYGEN_WEBHOOK_ALLOW_PRIVATE=false).');
  }
  return url;
}

/**
 * DNS lookup that refuses a host name when any of its addresses is non-public. It calls
 * `dns.lookup` through the module object, so a test can stand in for the resolver.
 */
const publicOnlyLookup = ((hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    const refused = addresses.find((a) => isNonPublicAddress(a.address));
    if (refused || !addresses.length) {
      const what = refused ? `${refused.address}, a private, loopback or otherwise non-public address` : 'no address';
      return callback(new OutboundError('refused_address', `${hostname} resolves to ${what}; private targets are not allowed (PAYGEN_WEBHOOK_ALLOW_PRIVATE=false).`), '');
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}) as LookupFunction;

// Separate agents for guarded and unguarded calls: a kept-alive socket opened without the guard
// must never be reused by a call that needs it.
const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS_PER_AGENT, maxFreeSockets: MAX_FREE_SOCKETS_PER_AGENT };
const AGENTS = {
  guarded: { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) },
  open: { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) },
};

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code}${e.message && !e.message.includes(e.code) ? `: ${e.message}` : ` (${e.message})`}` : String(e.message ?? error);
}

/**
 * Sends one request and reads a bounded response. Resolves with any HTTP status (the caller
 * decides what a 500 or a 302 means); rejects with an OutboundError when there is no response.
 */
export function sendOutbound(request: OutboundRequest): Promise<OutboundResponse> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<OutboundResponse>((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    const controller = new AbortController();
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, request.timeoutMs);
    const finish = (outcome: OutboundResponse | OutboundError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof OutboundError) {
        outcome.latencyMs = elapsed();
        reject(outcome);
      } else resolve(outcome);
    };
    const fail = (error: unknown) => finish(
      timedOut ? new OutboundError('timeout', `No complete response within ${request.timeoutMs} ms.`)
        : error instanceof OutboundError ? error
          : new OutboundError('connection', `The request failed: ${describe(error)}.`),
    );

    let url: URL;
    try {
      url = checkOutboundUrl(request.url, request.allowPrivate);
    } catch (error) {
      return fail(error);
    }
    const protocol = url.protocol as 'http:' | 'https:';
    const body = Buffer.from(request.body, 'utf8');
    const outgoing = (protocol === 'https:' ? https : http).request(url, {
      method: request.method ?? 'POST',
      headers: { ...request.headers, 'content-length': String(body.length) },
      signal: controller.signal,
      agent: AGENTS[request.allowPrivate ? 'open' : 'guarded'][protocol],
      lookup: request.allowPrivate ? undefined : publicOnlyLookup,
    });
    outgoing.on('error', fail);
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (truncated: boolean) => finish({
        status: response.statusCode ?? 0, headers: response.headers, truncated, latencyMs: elapsed(),
        body: Buffer.concat(chunks).subarray(0, request.maxResponseBytes).toString('utf8'),
      });
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size > request.maxResponseBytes) {
          done(true);
          response.destroy();
        }
      });
      response.on('end', () => done(false));
      response.on('error', fail);
      response.on('aborted', () => fail(new Error('the response was cut off')));
    });
    outgoing.end(body);
  });
}
