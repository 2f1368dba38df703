# The to-do bot as a container (docs/operations.md, "With Docker"). Built in one stage, run in a slim one as the unprivileged
# `node` user, with tini as pid 1 (it passes SIGTERM on to the bot and reaps any zombie), the data on a volume, and
# a health check. test/deploy/dockerfile.test.ts runs these commands in a temporary copy, as this user.

FROM node:20-bookworm-slim AS build
# The commit the bundle reports (`todo_bot_build_info`): the build has no .git, so pass
# `--build-arg BUILD_COMMIT=$(git rev-parse --short HEAD)`; "unknown" without it.
ARG BUILD_COMMIT
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY cards ./cards
COPY scripts/build.mjs ./scripts/build.mjs
COPY scripts/store.ts ./scripts/store.ts
# The runtime dependencies (the bundle's compact Feishu SDK is made from the installed one), then the bundler alone,
# at the lock's version, beside the script that imports it: the development dependencies (the linter, the test runner,
# the browser driver: 309 MB unpacked against 96 MB) build nothing. The script bundles the bot into dist/main.js and
# `npm run store` into dist/store.js.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm install --prefix scripts --no-save --ignore-scripts --no-audit --no-fund \
      "esbuild@$(node -p "require('./package-lock.json').packages['node_modules/esbuild'].version")" \
 && node scripts/build.mjs

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Runtime dependencies only (not esbuild or tsx, which only build); no scripts: dist/ comes from the build stage.
# No optional packages either: the lock keeps TypeScript (31 MB with its compiler's binary) for production because it
# is a development dependency that i18next names as an optional peer, and pg's one optional package is its socket for
# Cloudflare Workers. The bundle loads neither.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The app folder stays root's and read-only to the bot; only the data volume is its own.
RUN mkdir -p /data && chown node:node /data
USER node
ENV DATA_FILE=/data/db.json HOST=0.0.0.0 PORT=3000
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/main.js"]
