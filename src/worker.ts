// Background-only process entry: the same jobs as the API process runs in-process (webhook
// delivery, sweepers), without listening for HTTP. Run several against one PostgreSQL to scale out.
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main() {
  if (!/^postgres(ql)?:\/\//.test(loadConfig().databaseUrl ?? '')) {
    // The embedded database belongs to one process; with it, the API process runs the jobs itself.
    console.error('npm run worker needs DATABASE_URL=postgres://… (with the embedded database, `npm start` runs the jobs).');
    process.exit(2);
  }
  const app = await buildApp({ config: { workers: true } });
  app.log.info('worker started: background jobs running, no HTTP listener');
  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'worker shutting down');
    setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS).unref();
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
