# syntax=docker/dockerfile:1
#
# Image of the Lifecycle app. One image, two roles:
#   worker (default CMD)  node --import tsx src/workers/main.ts
#   api                   node --import tsx src/api/main.ts   (docker-compose.yml overrides the command)
# The app runs its TypeScript through tsx, which is a production dependency, so there is no build step.
# `node --import tsx` rather than `npx tsx`: one process, so SIGTERM from `docker stop` reaches the app's
# own handlers directly (no npm and tsx parent processes in between), and npm needs no writable cache.

ARG NODE_IMAGE=node:22.22.2-bookworm-slim

# ---- dependencies -------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# onnxruntime-node's install script would try to download CUDA binaries; the CPU library it needs
# ships inside the npm package, so skip the download (the build has no internet beyond the npm registry anyway).
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data
WORKDIR /app
# Code and dependencies stay owned by root, so the app (running as `node`) cannot modify them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
# DATA_DIR (artifacts) is the only place the app writes. Creating it here owned by `node` means a fresh
# named volume mounted on it starts with that owner.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/workers/main.ts"]
