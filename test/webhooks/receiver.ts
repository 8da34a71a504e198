// A real webhook receiver for the tests: an HTTP server on 127.0.0.1 (port 0) that verifies every
// delivery with the standardwebhooks package, answers as the test tells it, and records what it saw.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: Record<string, string>;
  body: string;
  payload: any;
  /** The secrets (by index in `secrets`) whose verification passed. */
  verifiedWith: number[];
}

export interface Answer {
  status: number;
  body?: string;
  /** Never answer (for timeouts). */
  hang?: boolean;
  delayMs?: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Secrets to verify with; set after creating the endpoint (and after a rotation). */
  secrets: string[];
  /** How to answer the n-th request (0-based). Default: 200 "ok". */
  answer: (n: number, payload: any) => Answer;
  /** Most requests for one webhook-id in progress at the same time. */
  maxConcurrentPerMessage: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const inProgress = new Map<string, number>();
  const hanging: http.ServerResponse[] = [];
  const receiver: Receiver = {
    url: '', received: [], secrets: [], maxConcurrentPerMessage: 0,
    answer: () => ({ status: 200, body: 'ok' }),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
  const server = http.createServer(async (req, res) => {
    const id = String(req.headers['webhook-id'] ?? '');
    // In progress from the first byte until the exchange ends, answered or cut off.
    const running = (inProgress.get(id) ?? 0) + 1;
    inProgress.set(id, running);
    receiver.maxConcurrentPerMessage = Math.max(receiver.maxConcurrentPerMessage, running);
    res.on('close', () => inProgress.set(id, (inProgress.get(id) ?? 1) - 1));
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // The sender went away mid-request.
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const verifiedWith: number[] = [];
    receiver.secrets.forEach((secret, index) => {
      try {
        new Webhook(secret).verify(body, headers);
        verifiedWith.push(index);
      } catch {
        // Recorded as not verified with this secret.
      }
    });
    let payload: any = null;
    try { payload = JSON.parse(body); } catch { /* kept as null */ }
    const n = receiver.received.length;
    receiver.received.push({ headers, body, payload, verifiedWith });
    const answer = receiver.answer(n, payload);
    if (answer.hang) { hanging.push(res); return; }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
