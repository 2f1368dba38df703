# The to-do bot as a container (docs/operations.md, "With Docker"). Built in one stage, run in a slim one as the unprivileged
# `node` user, with tini as pid 1 (it passes SIGTERM on to the bot and reaps any zombie), the data on a volume, and
# a health check. test/deploy/dockerfile.test.ts runs these commands in a temporary copy, as this user.

FROM node:20-bookworm-slim AS build
# The commit the bundle reports (`todo_bot_build_info`): the build has no .git, so pass
# `--build-arg BUILD_COMMIT=$(git rev-parse --short HEAD)`; "unknown" without it.
ARG BUILD_COMMIT
WORKDIR /app
COPY package.json package-lock.json ./
# The dependencies first, so that a change to the code alone builds from the layer that holds them. The runtime
# dependencies, which the image runs (the bundle's compact Feishu SDK is also made from the installed one): no
# development dependencies (the linter, the test runner, the browser driver: 309 MB unpacked against 84 MB), no install
# scripts, and no optional packages (the lock keeps TypeScript, 31 MB with its compiler's binary, for production
# because i18next names it as an optional peer, and pg's one optional package is its socket for Cloudflare Workers;
# the bundle loads neither). Then esbuild alone, at the lock's version, beside the script that imports it, out of
# the image's node_modules.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm install --prefix scripts --no-save --ignore-scripts --no-audit --no-fund \
      "esbuild@$(node -p "require('./package-lock.json').packages['node_modules/esbuild'].version")"
COPY tsconfig.json ./
COPY src ./src
COPY cards ./cards
COPY scripts/build.mjs ./scripts/build.mjs
COPY scripts/store.ts ./scripts/store.ts
# Bundles the bot into dist/main.js and `npm run store` into dist/store.js.
RUN node scripts/build.mjs

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
# The build stage's runtime dependencies, as installed there (the same base image, so the same platform).
COPY --from=build /app/node_modules ./node_modules
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
