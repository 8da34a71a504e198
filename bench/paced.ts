// An open-loop load at a constant rate, for latency at a given throughput (the half-rate targets)
// and for a steady event rate (scenario e). autocannon's `overallRate` is not that: each of its
// connections sends as fast as it can until its quota for the second is spent, then waits for the
// next second, so its "half rate" runs saturated for half of every second. Here request i is due
// at start + i / rate whatever the server does, and its latency counts from when it was due (a
// late answer delays nothing else, so slow answers are not hidden: no coordinated omission).
//
// The generator runs in a worker thread with a heap of its own: in the bench's main thread its
// garbage collections (the main heap is large) held every due request back for 5-20 ms several
// times a second and then sent them as one burst, which the server's latency then showed.
import { Worker } from 'node:worker_threads';

export interface PacedRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export interface PacedOptions {
  url: string;
  headers: Record<string, string>;
  /** Sent in turn, from the first again when the list runs out. */
  requests: PacedRequest[];
  rate: number;
  seconds: number;
  /** Sockets kept open; a request due while all are busy waits for one (and that wait counts). */
  sockets: number;
  timeoutMs: number;
  /** Counted in `missing`: a 2xx answer whose body lacks this text (a declined authorization). */
  expectInBody?: string;
}

export interface PacedResult {
  requests: { total: number };
  /** Seconds from the first request due to the last answer. */
  duration: number;
  latency: { p50: number; p99: number; p99_9: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  missing: number;
  /** p99 of how late requests left after they were due (ms): the generator's own delay. */
  lateP99: number;
  statusCodeStats: Record<string, { count: number }>;
}

/** Runs the load in a worker thread (paced-worker.mjs) and returns what it measured. */
export function pacedLoad(options: PacedOptions): Promise<PacedResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./paced-worker.mjs', import.meta.url), { workerData: { paced: options } });
    worker.once('message', (result: PacedResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`the load generator exited with ${code}`)); });
  });
}
