# syntax=docker/dockerfile:1
# Token swap server for the Spotify mobile SDKs: `spotify-session serve`.
#   docker build -t spotify-session .
#   docker run --rm -p 3000:3000 --env-file .env spotify-session
# Configuration comes from the environment (SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET,
# TOKEN_ENCRYPTION_KEYS, ...; see docs/server.md). Never bake secrets into the image.

# --- build: compile TypeScript to dist/ ---------------------------------------------------
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies + dist/ only, as an unprivileged user ---------------
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The node image ships a "node" user (uid 1000); the app needs no write access to /app.
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/cli/bin.js", "serve"]
