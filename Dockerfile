# remediator: Node 24 runs the TypeScript sources directly (type stripping), so there is no build stage.
# The image carries the whole product: the service, its CLI tools (lint, rbac, test, replay, sim) and the simulated
# cluster they run against (src/sim), the shipped playbooks with their tests, and the config files.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency exists for machines without Node 24; the image has it, so production deps only.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="remediator" \
      org.opencontainers.image.description="Alertmanager webhook remediation service: receives alerts, runs guarded Kubernetes playbooks, verifies the fix, pages a human when automation cannot." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/remediator/remediator" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    REMEDIATOR_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY playbooks ./playbooks
COPY config ./config
# Node keeps the type-stripped and compiled sources here: a process then starts without loading the TypeScript
# stripper (~17 MiB RSS less) and faster. Filled at build time with the CLI's modules and every module `serve`
# loads (bin/warm-compile-cache.js); a tool's modules imported later are added at run time where the filesystem
# is writable. MALLOC_ARENA_MAX: fewer glibc arenas, less fragmentation in a long-running process.
# MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ pin glibc's own defaults (128 KiB): left unset, glibc raises them
# each time a large block is freed (up to 32 MiB and twice that), so later large blocks come from the heap and what is
# freed there is kept rather than returned (pinned, the worker idles ~12 MiB lower; bench/memory.ts).
# NODE_OPTIONS: the default command runs every role in one process. At V8's default its young generation grew to
# 2 x 64 MiB, and each scavenge then copied 10-20 MiB and paused the process 15-50 ms: alert -> first Kubernetes
# request p99 went over 30 ms in about 4 latency runs in 10; with 8 MiB it was 15-20 ms in 6 runs of 7 and 30.2 in one
# (bench/kube-latency.ts).
# The chart sets its own per role (values.yaml), which replaces this one. The compile cache accepts code built with it.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 \
    NODE_OPTIONS=--max-semi-space-size=8
RUN node bin/warm-compile-cache.js \
 && chown -R 10001:10001 /app/.node-compile-cache
# Numeric, so Kubernetes can verify runAsNonRoot; the files stay root-owned and read-only to it.
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/remediator.js"]
CMD ["serve", "--config", "config/default.yaml"]
