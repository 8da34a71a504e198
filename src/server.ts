// Process entry: configuration, buildApp, listen, graceful shutdown.
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main() {
  const config = loadConfig();
  const app = await buildApp({
    onBootstrap: ({ apiKey, created }) => {
      // Printed to stdout, not the log: the log redacts keys.
      if (created) process.stdout.write(`\nSandbox API key (shown once): ${apiKey}\n\n`);
    },
  });
  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS).unref();
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await app.listen({ port: config.port, host: config.host });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
