// The paced load generator's worker thread (bench/paced.ts starts it, with the options and result
// types). Plain JavaScript: the bench's TypeScript loader does not reach worker threads.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/** @param {import('./paced.ts').PacedOptions} options @returns {Promise<import('./paced.ts').PacedResult>} */
async function generate(options) {
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.sockets });
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  const interval = 1_000 / options.rate;
  const latencies = new Float64Array(total);
  // How late each request left after it was due: this machine's (and this thread's) share of the
  // latency, shown beside it so that a late generator is not mistaken for a slow server.
  const lateness = new Float64Array(total);
  let answered = 0;
  /** @type {import('./paced.ts').PacedResult} */
  const result = {
    requests: { total: 0 }, duration: 0, latency: { p50: 0, p99: 0, p99_9: 0, max: 0 },
    non2xx: 0, errors: 0, timeouts: 0, missing: 0, lateP99: 0, statusCodeStats: {},
  };
  let pending = 0;
  let allSent = false;
  /** @type {() => void} */
  let finished = () => undefined;
  const done = new Promise((resolve) => { finished = () => resolve(undefined); });
  const settle = () => {
    pending--;
    if (allSent && pending === 0) finished();
  };

  /** @param {number} i @param {number} due */
  const send = (i, due) => {
    lateness[i] = performance.now() - due;
    const request = options.requests[i % options.requests.length];
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    pending++;
    const outgoing = http.request({
      agent, host: base.hostname, port: base.port, method: request.method, path: request.path,
      headers: { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    }, (response) => {
      const status = response.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      let text = '';
      if (ok && options.expectInBody) response.setEncoding('utf8').on('data', (chunk) => { text += chunk; });
      else response.resume();
      response.on('end', () => {
        latencies[answered++] = performance.now() - due;
        result.statusCodeStats[status] = { count: (result.statusCodeStats[status]?.count ?? 0) + 1 };
        if (!ok) result.non2xx++;
        else if (options.expectInBody && !text.includes(options.expectInBody)) result.missing++;
        settle();
      });
    });
    outgoing.setTimeout(options.timeoutMs, () => {
      result.timeouts++;
      outgoing.destroy(new Error('timeout'));
    });
    outgoing.on('error', (error) => {
      if (error.message !== 'timeout') result.errors++;
      settle();
    });
    outgoing.end(body);
  };

  const start = performance.now() + 20;
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Every request now due goes out, even if the timer fired late.
      while (sent < total && start + sent * interval <= now) send(sent, start + sent++ * interval);
      if (sent >= total) return resolve(undefined);
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  allSent = true;
  if (pending > 0) await done;
  agent.destroy();
  result.duration = (performance.now() - start) / 1_000;
  result.requests.total = answered;
  const sorted = latencies.subarray(0, answered).sort();
  /** @param {number} p */
  const at = (p) => answered ? sorted[Math.min(answered - 1, Math.ceil((p / 100) * answered) - 1)] : Number.NaN;
  /** @param {number} value */
  const ms = (value) => Math.round(value * 10) / 10;
  result.latency = { p50: ms(at(50)), p99: ms(at(99)), p99_9: ms(at(99.9)), max: ms(answered ? sorted[answered - 1] : Number.NaN) };
  const late = lateness.subarray(0, total).sort();
  result.lateP99 = ms(late[Math.min(total - 1, Math.ceil(0.99 * total) - 1)]);
  return result;
}

generate(workerData.paced).then((result) => parentPort?.postMessage(result));
