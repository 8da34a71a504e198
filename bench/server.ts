// The server under test: the BUILT server (dist/server.js, `npm run build`) started as its own
// process, as `npm start` runs it, with its resident memory sampled from /proc while it runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const SERVER_ENTRY = 'dist/server.js';
/** How long the server may take to say where it listens before the bench gives up. */
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;
const RSS_SAMPLE_MS = 100;
/** Effectively no rate limit: the bench measures the server, not the limiter's refusals. */
const UNLIMITED_RATE = '1000000000';

export interface Server {
  pid: number;
  baseUrl: string;
  /** Process start to the "API base URL" line, printed once the server listens. */
  startupMs: number;
  /** CPU time (user + system) the process had used by then: less sensitive to a busy machine. */
  startupCpuMs: number;
  /** Largest RSS (MB) sampled since the last call; restarts the window. */
  takeMaxRssMb(): number;
  /** The RSS (MB) right now. */
  rssMb(): number;
  stop(): Promise<void>;
}

/** Every server started and not yet stopped, so that Ctrl-C can stop them. */
const running = new Set<ChildProcess>();

export function killAll() {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export function readCpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

function readRssMb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0; // the process is gone
  }
}

export async function startServer(env: Record<string, string>, nodeFlags: string[] = []): Promise<Server> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--enable-source-maps', ...nodeFlags, SERVER_ENTRY], {
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', LOG_FORMAT: 'json',
      PAYGEN_RATE_LIMIT_PER_MINUTE: UNLIMITED_RATE, PAYGEN_WORKERS: 'true', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /API base URL: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  const startupMs = performance.now() - started;
  const startupCpuMs = readCpuMs(child.pid!);
  // Keep draining the pipes (warnings, errors) so the server never blocks on a full pipe; keep the
  // tail for the report if it dies.
  child.stdout!.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-20_000); });
  const pid = child.pid!;
  let maxRss = readRssMb(pid);
  const sampler = setInterval(() => { maxRss = Math.max(maxRss, readRssMb(pid)); }, RSS_SAMPLE_MS);
  sampler.unref();
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    pid, baseUrl, startupMs, startupCpuMs,
    takeMaxRssMb() {
      const max = Math.max(maxRss, readRssMb(pid));
      maxRss = readRssMb(pid);
      return max;
    },
    rssMb: () => readRssMb(pid),
    async stop() {
      clearInterval(sampler);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    },
  };
}
