/**
 * Spotify serves a Web API path with one trailing slash as the path without it
 * (`GET /v1/search/?q=…`, as widely used Node clients send it). Every operation of the
 * emulator's table is sent both ways, to two emulators fed the same sequence of requests,
 * and must get the same answer status; the slash never turns into `404 Service not found`.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ALL_USER_SCOPES, api, userToken } from '../../src/emulator/_test-http.js';
import { ALL_OPERATIONS } from '../../src/emulator/_webapi/operations.js';
import { ROUTES } from '../../src/emulator/_webapi/router.js';
import { WITHDRAWN } from '../../src/emulator/_webapi/withdrawn.js';
import { createEmulator, type EmulatorServer } from '../../src/emulator/index.js';

const T0 = Date.UTC(2026, 5, 1);
const TRACK = 'emuTrack00000000000001';

/** A sample value for each path parameter, by parameter and the path's first segment. */
const SAMPLES: Record<string, string> = {
  'albums id': 'emuAlbum00000000000001',
  'artists id': 'emuArtist0000000000001',
  'tracks id': TRACK,
  'shows id': 'emuShow000000000000001',
  'episodes id': 'emuEpisode000000000001',
  'audiobooks id': 'emuAudiobook0000000001',
  'chapters id': 'emuChapter000000000001',
  'audio-features id': TRACK,
  'audio-analysis id': TRACK,
  'playlists playlist_id': 'emuPlaylist00000000002',
  'users user_id': 'demo-user',
  'browse category_id': 'pop',
};
/** Parameters most operations read; ones an operation does not know are ignored. */
const QUERY = `?q=e&type=track&ids=${TRACK}&uris=spotify:track:${TRACK}&limit=2`;

function pathOf(template: string): string {
  const resource = template.split('/')[1] ?? '';
  return template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const sample = SAMPLES[`${resource} ${name}`];
    if (sample === undefined) throw new Error(`no sample for {${name}} in ${template}`);
    return sample;
  });
}

const servers: EmulatorServer[] = [];
beforeAll(async () => {
  for (let i = 0; i < 2; i++) servers.push(await createEmulator({ now: () => T0 }).listen());
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

test('every /v1 operation answers the same with one trailing slash', async () => {
  const [plain, slashed] = servers as [EmulatorServer, EmulatorServer];
  const tokens = await Promise.all(
    servers.map(async (server) => (await userToken(server.url, ALL_USER_SCOPES)).accessToken),
  );
  const differences: string[] = [];
  const statuses = new Map<string, number>();
  for (const operation of ALL_OPERATIONS) {
    const path = pathOf(operation.template);
    const body = operation.method === 'GET' ? undefined : {};
    const [a, b] = await Promise.all([
      api(plain.url, tokens[0] as string, operation.method, `${path}${QUERY}`, body),
      api(slashed.url, tokens[1] as string, operation.method, `${path}/${QUERY}`, body),
    ]);
    statuses.set(operation.key, a.status);
    const message = (answer: typeof a) =>
      (answer.body as { error?: { message?: string } } | undefined)?.error?.message;
    if (a.status !== b.status || message(a) !== message(b)) {
      differences.push(
        `${operation.key}: ${a.status} ${message(a) ?? ''} / with slash ${b.status} ${message(b) ?? ''}`,
      );
    }
  }
  expect(differences).toEqual([]);
  // The comparison means something: most emulated operations did their work.
  const emulated = Object.keys(ROUTES);
  const succeeded = emulated.filter((key) => (statuses.get(key) ?? 500) < 300);
  expect(succeeded.length).toBeGreaterThan(emulated.length / 2);
  // …and the others are the emulator's 501 (or a withdrawn endpoint's refusal: 403, or 404 for
  // the November 2024 ones, with or without the slash alike), never a 404 for the path.
  expect(
    [...statuses].filter(
      ([key, status]) => (status === 404 && !WITHDRAWN.has(key)) || status === 405,
    ),
  ).toEqual([]);
});

test('GET /v1/search/?q=… is the search; stats and faults count it as /v1/search', async () => {
  const emulator = createEmulator();
  const server = await emulator.listen();
  try {
    const { accessToken } = await userToken(server.url, ALL_USER_SCOPES);
    const found = await api(server.url, accessToken, 'GET', '/search/?q=sessions&type=album');
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ albums: { items: [{ name: 'Localhost Sessions' }] } });
    emulator.setFault({ endpoint: '/v1/search', type: 'status', status: 503, count: 1 });
    const faulted = await api(server.url, accessToken, 'GET', '/search/?q=sessions&type=album');
    expect(faulted.status).toBe(503);
    expect(emulator.stats().requests['GET /v1/search']).toBe(2);
    // One slash only: two are not a path Spotify serves.
    const doubled = await api(server.url, accessToken, 'GET', '/search//?q=sessions&type=album');
    expect(doubled.status).toBe(404);
  } finally {
    await server.close();
  }
});
