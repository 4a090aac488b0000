/**
 * What SpotifyWebAPI reads from the operation table, against the emulator on a real port:
 * - scopes checked before sending, and the incremental authorization its error shows;
 * - withdrawn endpoints named (Development Mode app), and reached with extended quota;
 * - ids given as Spotify URIs or open.spotify.com links; `paginate().collect({ max })`;
 * - one 429 for every process: 4 real processes sharing a real redis-server, then a
 *   FileStore directory; the emulator answers one call 429 `Retry-After: 30` and exactly one
 *   request reaches it during the wait, the other calls fail with `RateLimitError` at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpotifyWebAPI, WebAPIError } from '../../src/api/index.js';
import { Session, type TokenStore } from '../../src/core/index.js';
import {
  createEmulator,
  DEMO_APP,
  type Emulator,
  type EmulatorServer,
} from '../../src/emulator/index.js';
import { FileStore } from '../../src/stores/file.js';
import { RedisStore } from '../../src/stores/redis.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis.js';
import { bundleForNode } from '../support/stores/bundle.js';

const REDIRECT = 'http://127.0.0.1:8888/callback';
const ALBUM = 'emuAlbum00000000000001';
const TRACK = 'emuTrack00000000000001';
const LONG = 'emuPlaylist00000000003';
const skipRedis = skipWithoutRedis();

let emulator: Emulator;
let server: EmulatorServer;

beforeAll(async () => {
  emulator = createEmulator({ autoApprove: true });
  server = await emulator.listen({ port: 0 });
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  emulator.reset();
});

function newSession(options: { store?: TokenStore; key?: string } = {}): Session {
  return new Session({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUri: REDIRECT,
    accountsUrl: server.url,
    ...(options.store === undefined ? {} : { store: options.store, storeKey: options.key }),
  });
}

/** Logs demo-user in (auto-approved) asking for `scope`. */
async function login(session: Session, scope: readonly string[]): Promise<Session> {
  const state = Session.generateState();
  const answer = await fetch(session.getAuthorizeUrl({ scope, state }), {
    redirect: 'manual',
  });
  await answer.body?.cancel();
  await session.requestAccessToken(
    session.getCodeFromCallback(answer.headers.get('location') ?? '', state),
  );
  return session;
}

const apiOn = (session: Session) => new SpotifyWebAPI({ apiUrl: `${server.url}/v1` }, session);
const requests = (key: string) => emulator.stats().requests[key] ?? 0;

describe('scopes checked before sending', () => {
  it('refuses without a request, and the authorize URL its message shows fixes it', async () => {
    const session = await login(newSession(), ['user-read-private']);
    const api = apiOn(session);
    const error = await api.users.topTracks({ limit: 1 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebAPIError);
    const { kind, missingScopes, message } = error as WebAPIError;
    expect({ kind, missingScopes }).toEqual({
      kind: 'insufficient_scope',
      missingScopes: ['user-top-read'],
    });
    expect(message).toContain(
      "session.getAuthorizeUrl({ scope: ['user-read-private', 'user-top-read'], state })",
    );
    expect(requests('GET /v1/me/top/tracks')).toBe(0);

    // Incremental authorization: what was granted plus what is missing.
    await login(session, [...session.getScope(), ...(missingScopes ?? [])]);
    expect((await api.users.topTracks({ limit: 1 })).items).toHaveLength(1);
    expect(requests('GET /v1/me/top/tracks')).toBe(1);
  });

  it('sends when the scopes are unknown (a bare token): Spotify’s 403 tells then', async () => {
    const logged = await login(newSession(), ['user-read-private']);
    const bare = new Session({ clientId: DEMO_APP.clientId });
    bare.setAccessToken(logged.getAccessToken());
    const error = (await apiOn(bare)
      .users.topTracks()
      .catch((caught: unknown) => caught)) as WebAPIError;
    expect(error.kind).toBe('insufficient_scope');
    expect(error.missingScopes).toBeUndefined();
    expect(error.response?.status).toBe(403);
    expect(requests('GET /v1/me/top/tracks')).toBe(1);
  });
});

describe('withdrawn endpoints named at run time', () => {
  it('names the replacement for a Development Mode app, and answers once the app has extended quota', async () => {
    const api = apiOn(await login(newSession(), ['user-read-private']));
    const several = await api.albums.getSeveral([ALBUM]).catch((caught: unknown) => caught);
    expect(several).toMatchObject({ status: 403, kind: 'withdrawn', replacement: 'albums.get' });
    expect((several as Error).message).toContain(
      'Call api.albums.get() instead (GET /albums/{id})',
    );
    await expect(api.tracks.recommendations({ seedTracks: [TRACK] })).rejects.toMatchObject({
      status: 404,
      kind: 'withdrawn',
      message: expect.stringContaining('27 November 2024'),
    });
    await expect(api.playlists.tracks.list(LONG)).rejects.toMatchObject({
      kind: 'withdrawn',
      replacement: 'playlists.items.list',
    });

    emulator.setExtendedQuota(DEMO_APP.clientId, true);
    expect((await api.albums.getSeveral([ALBUM])).albums[0]?.id).toBe(ALBUM);
  });
});

describe('ids as Spotify URIs or open.spotify.com links', () => {
  it('reads tracks, albums and playlists by URI or link, and saves by link', async () => {
    const api = apiOn(await login(newSession(), ['user-library-modify', 'user-library-read']));
    expect((await api.tracks.get(`spotify:track:${TRACK}`)).id).toBe(TRACK);
    expect((await api.albums.get(`https://open.spotify.com/intl-de/album/${ALBUM}?si=x`)).id).toBe(
      ALBUM,
    );
    expect((await api.playlists.get(`open.spotify.com/playlist/${LONG}`)).id).toBe(LONG);
    const link = `https://open.spotify.com/track/${TRACK}?si=abc`;
    await api.library.remove([link]);
    expect(await api.library.contains([`spotify:track:${TRACK}`])).toEqual([false]);
    await api.library.save([link]);
    expect(await api.library.contains([link])).toEqual([true]);
    expect(() => api.albums.get(`spotify:track:${TRACK}`)).toThrow(/is a track's/);
  });
});

describe('paginate().collect()', () => {
  it('collects the items of every page, or the first max', async () => {
    const api = apiOn(await login(newSession(), ['playlist-read-private']));
    const all = await api.paginate(api.playlists.items.list(LONG, { limit: 50 })).collect();
    expect(all).toHaveLength(120);
    const some = await api
      .paginate(api.playlists.items.list(LONG, { limit: 50 }))
      .collect({ max: 70 });
    expect(some.map((entry) => entry.item?.id)).toEqual(all.slice(0, 70).map((e) => e.item?.id));
    expect(requests('GET /v1/playlists/{playlist_id}/items')).toBe(3 + 2);
  });
});

interface CallResult {
  ok: boolean;
  code?: string;
  retryAfter?: number;
  message?: string;
}

interface Worker {
  process: ChildProcess;
  ready: Promise<void>;
  call(): Promise<CallResult>;
  stop(): Promise<void>;
}

/** A process with its own Session and SpotifyWebAPI on the store; `call()` makes one GET /me. */
function startWorker(child: string, job: Record<string, unknown>): Worker {
  const proc = spawn(process.execPath, [child, JSON.stringify(job)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  return {
    process: proc,
    ready: next().then((line) => expect(line).toBe('ready')),
    async call() {
      const answer = next();
      proc.stdin?.write('call\n');
      return JSON.parse(await answer) as CallResult;
    },
    async stop() {
      proc.stdin?.write('exit\n');
      if (proc.exitCode === null) await once(proc, 'exit');
    },
  };
}

/**
 * 4 processes share `store`. The first call of the first process gets the emulator's 429
 * (Retry-After: 30, over the processes' cap of 5 s); then every process calls once more: none
 * sends, each gets RateLimitError with the seconds left.
 */
async function oneRateLimitForAll(store: TokenStore, job: Record<string, unknown>) {
  const session = await login(newSession({ store, key: 'user' }), ['user-read-private']);
  expect(session.getAccessToken()).toBeDefined();
  const child = await bundleForNode(
    fileURLToPath(new URL('../support/stores/rate-limit-child.ts', import.meta.url)),
    'rate-limit-child',
  );
  const workers = Array.from({ length: 4 }, () =>
    startWorker(child, {
      ...job,
      key: 'user',
      clientId: DEMO_APP.clientId,
      apiUrl: `${server.url}/v1`,
      maxRetryAfter: 5,
    }),
  );
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    emulator.setFault({
      endpoint: '/v1/me',
      type: 'status',
      status: 429,
      retryAfter: 30,
      count: 1,
    });
    const told = await (workers[0] as Worker).call();
    expect(told).toMatchObject({ ok: false, code: 'RATE_LIMITED', retryAfter: 30 });
    const others = await Promise.all(workers.map((worker) => worker.call()));
    for (const result of others) {
      expect(result).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
      expect(result.retryAfter).toBeGreaterThanOrEqual(25);
      expect(result.retryAfter).toBeLessThanOrEqual(30);
      expect(result.message).toContain('nothing was sent');
    }
    expect(requests('GET /v1/me')).toBe(1);
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await rm(child, { force: true });
  }
}

describe.skipIf(skipRedis)('one 429 for every process: RedisStore', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('4 processes on one redis-server: exactly 1 request reaches the emulator during the wait', async () => {
    const store = new RedisStore({ url: redis.url });
    try {
      await oneRateLimitForAll(store, { store: 'redis', url: redis.url });
      expect(await store.rateLimitedUntil(DEMO_APP.clientId)).toBeGreaterThan(Date.now());
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe('one 429 for every process: FileStore', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'api-rate-limit-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('4 processes on one directory: exactly 1 request reaches the emulator during the wait', async () => {
    const store = new FileStore({ directory });
    await oneRateLimitForAll(store, { store: 'file', directory });
    expect(await store.rateLimitedUntil(DEMO_APP.clientId)).toBeGreaterThan(Date.now());
  }, 60_000);
});
