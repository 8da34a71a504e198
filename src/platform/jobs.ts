// Background jobs (webhook delivery, authorization expiry sweeper): the same loop runs inside the
// API process (PAYGEN_WORKERS=true, the default) or alone in `npm run worker`. A job claims its
// work with FOR UPDATE SKIP LOCKED, so several processes can run the same job side by side.
import type { FastifyBaseLogger } from 'fastify';
import type { Ctx } from './context.ts';
import { isConnectionFailure } from './db.ts';

export interface Job {
  name: string;
  /** Pause between runs that found nothing to do. */
  idleDelayMs: number;
  /** Does one batch of work and returns how many items it handled; 0 means idle. */
  run(ctx: Ctx): Promise<number>;
  /** How many items are due now and not yet done (the queue depth of GET /metrics). */
  depth?(ctx: Ctx): Promise<number>;
}

/** Runs in a row while a job keeps finding work, before yielding to a pause anyway. */
export const MAX_BUSY_RUNS = 50;
const ERROR_DELAY_MS = 1_000;

export interface JobRunner {
  stop(): Promise<void>;
}

export function startJobs(ctx: Ctx, jobs: Job[], log: FastifyBaseLogger): JobRunner {
  let stopping = false;
  // Pending pauses, so that stop() can end them at once.
  const wakers = new Map<NodeJS.Timeout, () => void>();
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => { wakers.delete(timer); resolve(); }, ms);
    wakers.set(timer, resolve);
  });
  const loop = async (job: Job) => {
    while (!stopping) {
      let delay = job.idleDelayMs;
      try {
        for (let i = 0; i < MAX_BUSY_RUNS && !stopping; i++) {
          if ((await job.run(ctx)) === 0) break;
          if (i === MAX_BUSY_RUNS - 1) delay = 0;
        }
      } catch (error) {
        if (isConnectionFailure(error)) log.warn({ err: error, job: job.name }, 'background job: the database is unreachable; retrying');
        else log.error({ err: error, job: job.name }, 'background job failed; retrying');
        delay = ERROR_DELAY_MS;
      }
      if (!stopping) await sleep(delay);
    }
  };
  const running = jobs.map((job) => loop(job));
  return {
    async stop() {
      stopping = true;
      for (const [timer, wake] of wakers) {
        clearTimeout(timer);
        wake();
      }
      wakers.clear();
      await Promise.allSettled(running);
    },
  };
}
