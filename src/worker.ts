// Background-only process entry: the same jobs as the API process runs in-process (webhook
// delivery, sweepers), without listening for HTTP. Run several against one PostgreSQL to scale out.
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { closeOnSignals } from './platform/shutdown.ts';

async function main() {
  if (!/^postgres(ql)?:\/\//.test(loadConfig().databaseUrl ?? '')) {
    // The embedded database belongs to one process; with it, the API process runs the jobs itself.
    console.error('npm run worker needs DATABASE_URL=postgres://… (with the embedded database, `npm start` runs the jobs).');
    process.exit(2);
  }
  // No HTTP here: no credential to resolve, so no cache and no LISTEN connection for it.
  const app = await buildApp({ config: { workers: true, credentialCache: false } });
  app.log.info('worker started: background jobs running, no HTTP listener');
  closeOnSignals(app, { timeoutMs: app.ctx.config.shutdownTimeoutMs, name: 'worker' });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
