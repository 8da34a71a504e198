# Paygen API and worker image: one image, two commands (`node dist/server.js`, `node dist/worker.js`).
# Build: docker build -t paygen . (needs registry access for node:20 and npm). Run it with
# compose.yaml, or see README "Running in production".

# Build stage: every dependency, the bundle (npm run build: esbuild to dist/server.js and
# dist/worker.js), then the dev dependencies pruned so that only runtime packages are copied on.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: no compiler, no sources, no dev dependencies; runs as the unprivileged `node` user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 LOG_FORMAT=json PAYGEN_DATA_DIR=/app/data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The migrations run at start-up (every process migrates; a lock makes concurrent starts safe).
COPY --from=build --chown=node:node /app/migrations ./migrations
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Liveness only (/health does not touch the database); load balancers should probe /ready.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) drains in-flight requests and deliveries within PAYGEN_SHUTDOWN_TIMEOUT_MS:
# keep docker's stop timeout above it (compose.yaml: stop_grace_period).
CMD ["node", "dist/server.js"]
