// Reading GET /metrics in tests: a scrape, and one sample of it.
import assert from 'node:assert/strict';
import type { Harness } from './api.ts';

export async function scrape(harness: Harness): Promise<string> {
  const res = await harness.request('GET', '/metrics', { key: null });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text;
}

/** The value of one sample, 0 when absent; `labels` must all be on the line, in any order. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const pairs = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => pairs[k] === v)) total += Number(match[3]);
  }
  return total;
}
