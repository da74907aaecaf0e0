# docker/esbench.Dockerfile - the esbench service (docker-compose.yml, services esbench and
# esbench-pgbouncer). Runs the TypeScript sources through tsx, as `npm start` does: no build step.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# Optional dependencies stay: esbuild (under tsx) ships its binary as one. The embedded PostgreSQL
# packages come along but are unused here (the stack passes external URLs).
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY sql ./sql
COPY tuning ./tuning
USER node
EXPOSE 8080
CMD ["node", "bin/esbench.js", "serve", "--host", "0.0.0.0", "--port", "8080"]
