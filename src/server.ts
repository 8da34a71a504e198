// Process entry: configuration, buildApp, listen, graceful shutdown.
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { closeOnSignals } from './platform/shutdown.ts';
import { findDashboardDir } from './platform/dashboard.ts';

/** Where the API reference and the OpenAPI document are served (platform/openapi.ts, operations.ts). */
const DOCS_PATH = '/docs';
const OPENAPI_PATH = '/openapi.json';
/** The developer dashboard (platform/dashboard.ts), once `npm run build` has built it. */
const DASHBOARD_PATH = '/dashboard/';
/** A wildcard address is where the server listens, not an address to type: show the loopback one. */
const WILDCARD_HOSTS: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' };

/** The base URL a developer on this machine can open, from the address actually bound (PORT=0 included). */
function baseUrl(address: AddressInfo): string {
  const host = WILDCARD_HOSTS[address.address] ?? address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Printed to stdout, not the log, so that it reads the same in either log format. */
function printWhereToStart(base: string) {
  const dashboard = `Dashboard: ${base}${DASHBOARD_PATH}${findDashboardDir() ? '' : ' (not built: run npm run build)'}`;
  const lines = [`Docs: ${base}${DOCS_PATH}`, dashboard, `OpenAPI: ${base}${OPENAPI_PATH}`, `API base URL: ${base}`];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

/**
 * The old generation grows by 20 % past what a full collection left, not by V8's adaptive factor
 * (up to 4x when allocation is fast, as under load): the process stays within its 300 MB budget
 * (issue 10) for a few more full collections (GC was ~3 % of the CPU). Scenario f's JS heap
 * peaked at 82-84 MB against 90-132 MB; on PostgreSQL, a server that ran scenarios a-e in turn
 * peaked at 326 MB without it.
 */
setFlagsFromString('--heap-growing-percent=20');

async function main() {
  const config = loadConfig();
  const app = await buildApp({
    onBootstrap: ({ apiKey, created }) => {
      // Printed to stdout, not the log: the log redacts keys.
      if (created) process.stdout.write(`\nSandbox API key (shown once): ${apiKey}\n\n`);
    },
  });
  closeOnSignals(app, { timeoutMs: config.shutdownTimeoutMs });
  await app.listen({ port: config.port, host: config.host });
  printWhereToStart(baseUrl(app.server.address() as AddressInfo));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
