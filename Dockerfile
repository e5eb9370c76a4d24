# One image for every Gitway process. Build: docker build -t gitway .
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY app.yml ./
# `prepare` compiles TypeScript; dev dependencies are then dropped from the image.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev && rm -rf src
ENV NODE_ENV=production
# Mount the repository to check at /repo (docker run -v "$PWD:/repo" gitway).
WORKDIR /repo
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["validate", "."]
