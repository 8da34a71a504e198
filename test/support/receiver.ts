// A real local HTTP receiver for webhook tests: it listens on 127.0.0.1 (random port), records
// every request, verifies its Standard Webhooks signature with the `standardwebhooks` package when
// it knows the secret, and answers as told — JSON, a failing status, a malformed body, or nothing
// until past the caller's timeout.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** Longest a "sleep" answer may wait, so that a forgotten receiver cannot hang a test run. */
const MAX_SLEEP_MS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;

export type Answer =
  | { json: unknown; status?: number; delayMs?: number }
  | { status: number; text?: string; contentType?: string; delayMs?: number }
  | { sleepMs: number };

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  json: any;
  /** Whether Webhook.verify accepted it with the receiver's secret (false without a secret). */
  verified: boolean;
  verifyError?: string;
  at: number;
}

export interface Receiver {
  /** Base URL, e.g. http://127.0.0.1:43123 */
  url: string;
  requests: Received[];
  /** The secret that signatures are verified with (a program's or an endpoint's whsec_…). */
  secret: string | undefined;
  /** What to answer from now on: a fixed answer, or one computed from the request. */
  answer(answer: Answer | ((request: Received) => Answer)): void;
  /** Resolves when `count` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

function verify(secret: string | undefined, body: string, headers: IncomingHttpHeaders) {
  if (!secret) return { verified: false, verifyError: 'no secret set' };
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': String(headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(headers['webhook-signature'] ?? ''),
    });
    return { verified: true };
  } catch (error) {
    return { verified: false, verifyError: (error as Error).message };
  }
}

function parse(body: string) {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export async function startReceiver(initial: Answer = { json: { approved: true } }): Promise<Receiver> {
  let current: Answer | ((request: Received) => Answer) = initial;
  const timers = new Set<NodeJS.Timeout>();
  const waiters: Array<() => void> = [];
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => { timers.delete(timer); run(); }, Math.min(ms, MAX_SLEEP_MS));
    timers.add(timer);
  };

  const receiver: Receiver = {
    url: '',
    requests: [],
    secret: undefined,
    answer(answer) { current = answer; },
    waitFor(count, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`receiver: ${receiver.requests.length} of ${count} requests after ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (receiver.requests.length < count) return false;
          clearTimeout(deadline);
          resolve(receiver.requests);
          return true;
        };
        const wait = () => { if (!check()) waiters.push(wait); };
        wait();
      });
    },
    close: () => new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request: Received = {
        method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json: parse(body),
        ...verify(receiver.secret, body, req.headers), at: Date.now(),
      };
      receiver.requests.push(request);
      for (const wake of waiters.splice(0)) wake();
      const answer = typeof current === 'function' ? current(request) : current;
      const reply = () => {
        if (res.destroyed) return;
        if ('json' in answer) {
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
        } else if ('status' in answer) {
          res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'text/plain' }).end(answer.text ?? '');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ approved: true, sleptMs: answer.sleepMs }));
        }
      };
      const delay = 'sleepMs' in answer ? answer.sleepMs : answer.delayMs ?? 0;
      if (delay > 0) later(delay, reply);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
