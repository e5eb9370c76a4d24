# One image for every Gitway process. Build: docker build -t gitway .
FROM node:20-bookworm-slim
# git reads the repositories the embedded mode polls; nginx with njs is the data plane when GATEWAY_ENGINE=nginx.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates nginx-light libnginx-mod-http-js \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
COPY migrations ./migrations
COPY app.yml ./
COPY examples ./examples
# `prepare` compiles TypeScript and writes the OpenAPI validators as code (scripts/); dev dependencies are then dropped from the image.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev && rm -rf src scripts
ENV NODE_ENV=production GITWAY_DATA_DIR=/data HOST=0.0.0.0 GATEWAY_HOST=0.0.0.0
VOLUME /data
EXPOSE 3000 8787
# `npm start`: the app (webhooks, admin API) on 3000 and the gateway on 8787. For the CLI instead:
# docker run --entrypoint node gitway /app/dist/cli.js validate /repo
ENTRYPOINT ["node"]
CMD ["/app/dist/main.js"]
