/** Playlists: read, items (read, add, reorder/replace, remove), create, the user's list. */
import { findEpisode, findTrack } from './catalogue.js';
import type { RouteTable, WebApiContext } from './context.js';
import {
  badRequest,
  forbidden,
  INSUFFICIENT_SCOPE_MESSAGE,
  jsonResponse,
  notFound,
  webApiError,
} from './errors.js';
import { episodeObject, pagingObject, playlistUser, trackObject } from './objects.js';
import { checkId, checkMarket, intParam, ParamError, pageParams, uriList } from './params.js';
import { type PlaylistItem, type PlaylistRecord, snapshotId } from './state.js';

/** Spotify's timestamps: ISO 8601 in UTC, whole seconds. */
export const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A track or episode object for a `spotify:track:…` / `spotify:episode:…` URI. */
export function itemObject(
  context: WebApiContext,
  uri: string,
): Record<string, unknown> | undefined {
  const [, type, id = ''] = uri.split(':');
  if (type === 'track') {
    const track = findTrack(id);
    return track && trackObject(context.links, track);
  }
  if (type === 'episode') {
    const episode = findEpisode(id);
    return episode && episodeObject(context.links, episode);
  }
  return undefined;
}

const displayName = (context: WebApiContext, userId: string) =>
  context.state.user(userId)?.displayName ?? null;

/**
 * One playlist entry. Development Mode apps get `item` only (February 2026);
 * apps with extended quota also get the older `track`.
 */
function playlistEntry(context: WebApiContext, entry: PlaylistItem): Record<string, unknown> {
  const item = itemObject(context, entry.uri) ?? null;
  const body: Record<string, unknown> = {
    added_at: isoSeconds(entry.addedAt),
    added_by: playlistUser(context.links, entry.addedBy),
    is_local: false,
    item,
  };
  if (context.token.extendedQuota) body.track = item;
  return body;
}

function itemsPage(
  context: WebApiContext,
  playlist: PlaylistRecord,
  url: URL,
  params: { limit: number; offset: number },
) {
  return pagingObject(
    url,
    playlist.items
      .slice(params.offset, params.offset + params.limit)
      .map((entry) => playlistEntry(context, entry)),
    { ...params, total: playlist.items.length },
  );
}

/** A playlist's cover: its first track's album cover, as Spotify shows a short playlist. */
function playlistImages(context: WebApiContext, playlist: PlaylistRecord): unknown[] {
  const first = playlist.items.find((entry) => entry.uri.startsWith('spotify:track:'));
  const album = itemObject(context, first?.uri ?? '')?.album as { images?: unknown[] } | undefined;
  return album?.images?.slice(0, 1) ?? [];
}

function baseFields(context: WebApiContext, playlist: PlaylistRecord) {
  return {
    collaborative: playlist.collaborative,
    description: playlist.description,
    external_urls: { spotify: `https://open.spotify.com/playlist/${playlist.id}` },
    href: `${context.links.api}/playlists/${playlist.id}`,
    id: playlist.id,
    images: playlistImages(context, playlist),
    name: playlist.name,
    owner: playlistUser(context.links, playlist.ownerId, displayName(context, playlist.ownerId)),
    public: playlist.public,
    snapshot_id: snapshotId(playlist),
    type: 'playlist',
    uri: `spotify:playlist:${playlist.id}`,
  };
}

export function playlistObjectSimplified(
  context: WebApiContext,
  playlist: PlaylistRecord,
): Record<string, unknown> {
  const ref = {
    href: `${context.links.api}/playlists/${playlist.id}/items`,
    total: playlist.items.length,
  };
  const body: Record<string, unknown> = { ...baseFields(context, playlist), items: ref };
  if (context.token.extendedQuota)
    body.tracks = {
      href: `${context.links.api}/playlists/${playlist.id}/tracks`,
      total: playlist.items.length,
    };
  return body;
}

function playlistObject(context: WebApiContext, playlist: PlaylistRecord): Record<string, unknown> {
  const first = { limit: 100, offset: 0 };
  const body: Record<string, unknown> = {
    ...baseFields(context, playlist),
    items: itemsPage(
      context,
      playlist,
      new URL(`${context.links.api}/playlists/${playlist.id}/items`),
      first,
    ),
  };
  if (context.token.extendedQuota)
    body.tracks = itemsPage(
      context,
      playlist,
      new URL(`${context.links.api}/playlists/${playlist.id}/tracks`),
      first,
    );
  return body;
}

const hasScope = (context: WebApiContext, scope: string) => context.token.scopes.has(scope);

/**
 * A playlist the token may read: public ones for anybody; private ones for
 * their owner (with `playlist-read-private`) or, if collaborative, any user
 * with `playlist-read-collaborative`. Others are hidden (404).
 */
function readablePlaylist(context: WebApiContext, needScope: boolean): PlaylistRecord | Response {
  const playlist = context.state.playlists.get(checkId(context.params.playlist_id ?? ''));
  if (playlist === undefined) return notFound();
  if (playlist.public) return playlist;
  const userId = context.token.userId;
  if (userId === undefined) return notFound();
  if (playlist.ownerId === userId) {
    if (needScope && !hasScope(context, 'playlist-read-private'))
      return forbidden(INSUFFICIENT_SCOPE_MESSAGE);
    return playlist;
  }
  if (playlist.collaborative) {
    if (needScope && !hasScope(context, 'playlist-read-collaborative'))
      return forbidden(INSUFFICIENT_SCOPE_MESSAGE);
    return playlist;
  }
  return notFound();
}

/** A playlist the user may change, with the scope its visibility needs. */
function writablePlaylist(context: WebApiContext): PlaylistRecord | Response {
  const playlist = readablePlaylist(context, false);
  if (playlist instanceof Response) return playlist;
  if (playlist.ownerId !== context.userId && !playlist.collaborative) return forbidden();
  const scope = playlist.public ? 'playlist-modify-public' : 'playlist-modify-private';
  if (!hasScope(context, scope)) return forbidden(INSUFFICIENT_SCOPE_MESSAGE);
  return playlist;
}

function checkSnapshot(playlist: PlaylistRecord, snapshot: unknown): void {
  if (snapshot === undefined) return;
  if (typeof snapshot !== 'string') throw new ParamError('Invalid snapshot_id');
  let decoded = '';
  try {
    decoded = atob(snapshot);
  } catch {
    throw new ParamError('Invalid snapshot_id');
  }
  const [version, id] = decoded.split(',');
  if (id !== playlist.id || !(Number(version) >= 1 && Number(version) <= playlist.version))
    throw new ParamError('Invalid snapshot_id');
}

function changed(playlist: PlaylistRecord, status: number): Response {
  playlist.version += 1;
  return jsonResponse({ snapshot_id: snapshotId(playlist) }, status);
}

const MAX_ITEMS_PER_REQUEST = 100;

/** URIs to add or set: from the `uris` query parameter or the body's `uris` array. */
function urisFrom(context: WebApiContext, body: Record<string, unknown>): string[] | undefined {
  const query = context.url.searchParams.get('uris');
  let values: unknown[] | undefined;
  if (query !== null) values = query.split(',');
  else if (body.uris !== undefined) {
    if (!Array.isArray(body.uris)) throw new ParamError('uris must be an array of Spotify URIs');
    values = body.uris;
  }
  if (values === undefined) return undefined;
  const uris = uriList(values, ['track', 'episode'], MAX_ITEMS_PER_REQUEST).map(
    (parsed) => parsed.uri,
  );
  for (const uri of uris)
    if (itemObject(context, uri) === undefined)
      throw new ParamError('Payload contains a non-existing ID');
  return uris;
}

async function jsonObject(
  context: WebApiContext,
  required: boolean,
): Promise<Record<string, unknown>> {
  const body = await context.json();
  if (body === undefined && !required) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ParamError('Error parsing JSON.');
  return body as Record<string, unknown>;
}

const isInt = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value);

export const PLAYLIST_ROUTES: RouteTable = {
  'GET /playlists/{playlist_id}': {
    handle(c) {
      checkMarket(c.url);
      const playlist = readablePlaylist(c, false);
      return playlist instanceof Response ? playlist : jsonResponse(playlistObject(c, playlist));
    },
  },
  'GET /playlists/{playlist_id}/items': {
    handle(c) {
      checkMarket(c.url);
      const params = pageParams(c.url, { max: 50, default: 20 });
      const playlist = readablePlaylist(c, true);
      return playlist instanceof Response
        ? playlist
        : jsonResponse(itemsPage(c, playlist, c.url, params));
    },
  },
  /** Withdrawn for Development Mode apps (February 2026): the router refuses it there. */
  'GET /playlists/{playlist_id}/tracks': {
    handle(c) {
      checkMarket(c.url);
      const params = pageParams(c.url, { max: 100, default: 20 });
      const playlist = readablePlaylist(c, true);
      return playlist instanceof Response
        ? playlist
        : jsonResponse(itemsPage(c, playlist, c.url, params));
    },
  },
  'POST /playlists/{playlist_id}/items': {
    user: true,
    async handle(c) {
      const playlist = writablePlaylist(c);
      if (playlist instanceof Response) return playlist;
      const body = await jsonObject(c, false);
      const uris = urisFrom(c, body);
      if (uris === undefined || uris.length === 0) return badRequest('No uris provided');
      const rawPosition = c.url.searchParams.has('position')
        ? intParam(c.url, 'position', { min: 0 })
        : body.position;
      if (
        rawPosition !== undefined &&
        (!isInt(rawPosition) || rawPosition < 0 || rawPosition > playlist.items.length)
      )
        return badRequest('Index out of bounds');
      const position = rawPosition ?? playlist.items.length;
      const now = c.now();
      playlist.items.splice(
        position,
        0,
        ...uris.map((uri) => ({ uri, addedAt: now, addedBy: c.userId })),
      );
      return changed(playlist, 201);
    },
  },
  'PUT /playlists/{playlist_id}/items': {
    user: true,
    async handle(c) {
      const playlist = writablePlaylist(c);
      if (playlist instanceof Response) return playlist;
      const body = await jsonObject(c, false);
      const uris = urisFrom(c, body);
      const reorder = body.range_start !== undefined || body.insert_before !== undefined;
      if (uris !== undefined && reorder)
        return badRequest('Cannot reorder and replace items in one request');
      if (uris !== undefined) {
        const now = c.now();
        playlist.items = uris.map((uri) => ({ uri, addedAt: now, addedBy: c.userId }));
        return changed(playlist, 200);
      }
      if (!reorder) return badRequest('Missing range_start and insert_before, or uris');
      checkSnapshot(playlist, body.snapshot_id);
      const length = playlist.items.length;
      const start = body.range_start;
      const before = body.insert_before;
      const count = body.range_length ?? 1;
      if (!isInt(start) || start < 0 || start >= length) return badRequest('Invalid range_start');
      if (!isInt(count) || count < 1 || start + count > length)
        return badRequest('Invalid range_length');
      if (!isInt(before) || before < 0 || before > length)
        return badRequest('Invalid insert_before');
      const moved = playlist.items.splice(start, count);
      const target = before > start ? Math.max(start, before - count) : before;
      playlist.items.splice(target, 0, ...moved);
      return changed(playlist, 200);
    },
  },
  'DELETE /playlists/{playlist_id}/items': {
    user: true,
    async handle(c) {
      const playlist = writablePlaylist(c);
      if (playlist instanceof Response) return playlist;
      const body = await jsonObject(c, true);
      const entries = body.items ?? body.tracks;
      if (!Array.isArray(entries) || entries.length === 0) return badRequest('Missing items');
      const uris = uriList(
        entries.map((entry) =>
          typeof entry === 'object' && entry !== null
            ? (entry as { uri?: unknown }).uri
            : undefined,
        ),
        ['track', 'episode'],
        MAX_ITEMS_PER_REQUEST,
      ).map((parsed) => parsed.uri);
      checkSnapshot(playlist, body.snapshot_id);
      const remove = new Set(uris);
      playlist.items = playlist.items.filter((entry) => !remove.has(entry.uri));
      return changed(playlist, 200);
    },
  },
  'PUT /playlists/{playlist_id}': {
    user: true,
    async handle(c) {
      const playlist = writablePlaylist(c);
      if (playlist instanceof Response) return playlist;
      const body = await jsonObject(c, true);
      if (body.name !== undefined && (typeof body.name !== 'string' || body.name.trim() === ''))
        return badRequest('name must be a non-empty string');
      for (const field of ['public', 'collaborative'] as const)
        if (body[field] !== undefined && typeof body[field] !== 'boolean')
          return badRequest(`${field} must be a boolean`);
      if (body.description !== undefined && typeof body.description !== 'string')
        return badRequest('description must be a string');
      const isPublic = typeof body.public === 'boolean' ? body.public : playlist.public;
      const collaborative =
        typeof body.collaborative === 'boolean' ? body.collaborative : playlist.collaborative;
      if (collaborative && isPublic)
        return badRequest('Collaborative playlists must not be public');
      // Making a playlist private (or public) takes the scope of what it becomes, too.
      const scope = isPublic ? 'playlist-modify-public' : 'playlist-modify-private';
      if (!hasScope(c, scope)) return forbidden(INSUFFICIENT_SCOPE_MESSAGE);
      if (typeof body.name === 'string') playlist.name = body.name;
      if (typeof body.description === 'string') playlist.description = body.description;
      playlist.public = isPublic;
      playlist.collaborative = collaborative;
      playlist.version += 1;
      return new Response(null, { status: 200 });
    },
  },
  'GET /playlists/{playlist_id}/images': {
    handle(c) {
      const playlist = readablePlaylist(c, false);
      return playlist instanceof Response ? playlist : jsonResponse(playlistImages(c, playlist));
    },
  },
  'GET /me/playlists': {
    user: true,
    anyScope: ['playlist-read-private'],
    handle(c) {
      const params = pageParams(c.url, { max: 50, default: 20 });
      const saved = [...c.state.library(c.userId).saved.entries()]
        .filter(([uri]) => uri.startsWith('spotify:playlist:'))
        .sort((a, b) => b[1] - a[1])
        .flatMap(([uri]) => c.state.playlists.get(uri.slice('spotify:playlist:'.length)) ?? []);
      return jsonResponse(
        pagingObject(
          c.url,
          saved
            .slice(params.offset, params.offset + params.limit)
            .map((playlist) => playlistObjectSimplified(c, playlist)),
          { ...params, total: saved.length },
        ),
      );
    },
  },
  'POST /me/playlists': {
    user: true,
    async handle(c) {
      const body = await jsonObject(c, true);
      if (typeof body.name !== 'string' || body.name.trim() === '')
        return badRequest('Missing required field: name');
      for (const field of ['public', 'collaborative'] as const)
        if (body[field] !== undefined && typeof body[field] !== 'boolean')
          return badRequest(`${field} must be a boolean`);
      if (body.description !== undefined && typeof body.description !== 'string')
        return badRequest('description must be a string');
      const isPublic = body.public !== false;
      const collaborative = body.collaborative === true;
      if (collaborative && isPublic)
        return badRequest('Collaborative playlists must not be public');
      const needed = isPublic ? ['playlist-modify-public'] : ['playlist-modify-private'];
      if (collaborative) needed.push('playlist-modify-public', 'playlist-modify-private');
      if (!needed.every((scope) => hasScope(c, scope)))
        return webApiError(403, INSUFFICIENT_SCOPE_MESSAGE);
      const playlist = c.state.createPlaylist(c.userId, {
        name: body.name,
        description: typeof body.description === 'string' ? body.description : '',
        public: isPublic,
        collaborative,
      });
      return jsonResponse(playlistObject(c, playlist), 201);
    },
  },
};
