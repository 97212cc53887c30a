# syntax=docker/dockerfile:1
#
# dec-stream worker image.
#   docker build -t dec-stream .
#   docker run --rm -e KAFKA_BROKERS=... -e DEC_INPUT_TOPIC=... dec-stream
#
# The base image is pinned by tag. For reproducible production builds pin it by digest as well
# (node:20.20.2-bookworm-slim@sha256:...), resolved with `docker buildx imagetools inspect`.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: all dependencies, TypeScript → dist/ ---------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: production dependencies plus the native TensorFlow backend -------------------------
# @tensorflow/tfjs-node downloads libtensorflow and a prebuilt addon at install time; the compiler
# toolchain is only here in case the prebuilt addon does not fit and it builds from source. None of
# it reaches the runtime image.
FROM ${NODE_IMAGE} AS prod-deps
# Must match the @tensorflow/tfjs version in package-lock.json.
ARG TFJS_NODE_VERSION=4.22.0
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Reviewed fixes of the pinned kafkajs, applied by the install's postinstall with patch-package
# (a production dependency for that reason); a patch that no longer applies fails the install.
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm install --no-save --omit=dev --no-audit --no-fund \
    "@tensorflow/tfjs-node@${TFJS_NODE_VERSION}" \
  && node -e "require('@tensorflow/tfjs-node')" \
  && npm cache clean --force

# --- runtime: production dependencies and dist/ only, as a non-root user --------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
  DEC_MODEL_DIR=/var/lib/dec-stream/models
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The model directory is the only place the worker writes; in Kubernetes it is a volume.
RUN mkdir -p /var/lib/dec-stream/models && chown -R 1000:1000 /var/lib/dec-stream
# The image's `node` user, by number so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 9464
# Exec form, no shell or entrypoint script in between: node is PID 1 and receives SIGTERM itself,
# so the worker drains before it exits.
ENTRYPOINT []
CMD ["node", "dist/cli.js", "run"]
