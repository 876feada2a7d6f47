# ocrops image: the tracker server, sweep workers and the model server from one image (`ocrops <group> <command>`).
# Build stage: scripts/setup --no-apt --no-test-deps builds better-sqlite3 from source and tfjs-node against the
# TensorFlow C library taken from the tensorflow-cpu wheel on PyPI, exactly as on a development machine. Runtime
# stage: Node's slim image with the built node_modules, the packages, the configs and the fonts the synthetic data
# generator draws with.
#   docker build -t ocrops:latest .
FROM node:20-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-pip g++ make git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json nx.json tsconfig.base.json eslint.config.mjs ./
COPY packages ./packages
COPY scripts ./scripts
COPY configs ./configs
COPY .dvc ./.dvc
COPY dvc.yaml ./
RUN scripts/setup --no-apt --no-test-deps \
    && node packages/dashboard/scripts/build.mjs \
    && rm -rf .cache .venv

FROM node:20-bookworm-slim AS runtime
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      fonts-dejavu-core fonts-noto-core fonts-liberation2 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.base.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/configs ./configs
COPY --from=build /app/.dvc ./.dvc
COPY --from=build /app/dvc.yaml ./
COPY deploy/create-bucket.mjs ./deploy/create-bucket.mjs
ENV NODE_ENV=production TF_CPP_MIN_LOG_LEVEL=2 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
ENTRYPOINT ["node", "/app/packages/cli/bin/ocrops.mjs"]
CMD ["--help"]
