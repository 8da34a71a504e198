// Graceful shutdown. On SIGTERM or SIGINT a process stops accepting connections, answers a request
// that still arrives on an open keep-alive connection with 503 service_unavailable (so a load
// balancer retries it elsewhere), lets in-flight requests finish, lets the background jobs finish
// the batch in hand (a webhook delivery in flight is sent and recorded), closes the database and
// exits 0. If that takes longer than PAYGEN_SHUTDOWN_TIMEOUT_MS it exits 1: whatever was cut short
// is covered by the idempotency and delivery leases, as after a crash.
import type { FastifyInstance } from 'fastify';
import { serviceUnavailable } from './errors.ts';

/** Refuses requests once the app is closing, in the envelope; registered first among onRequest hooks. */
export function registerShutdownGate(app: FastifyInstance) {
  let closing = false;
  app.addHook('preClose', async () => { closing = true; });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw serviceUnavailable('The server is shutting down; retry (another instance answers).');
  });
  // An answer sent while closing ends its keep-alive connection: the server closes once the
  // last one is answered, instead of waiting for clients to hang up.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
}

/**
 * Installs the signal handlers of a process entry (server.ts, worker.ts). `name` starts the log
 * messages ("worker shutting down"); the server's say just "shutting down".
 */
export function closeOnSignals(app: FastifyInstance, options: { timeoutMs: number; name?: string }) {
  const who = options.name ? `${options.name} ` : '';
  let started = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    app.log.info({ signal, timeoutMs: options.timeoutMs }, `${who}shutting down`);
    setTimeout(() => {
      app.log.error({ timeoutMs: options.timeoutMs }, `${who}did not finish in-flight work in time; exiting`);
      process.exit(1);
    }, options.timeoutMs).unref();
    app.close().then(() => {
      app.log.info(`${who}stopped`);
      process.exit(0);
    }, (error: unknown) => {
      app.log.error({ err: error }, `${who}failed to shut down cleanly`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
