/** The player: state, devices, transfer, play/pause/next/previous/seek/volume/shuffle/repeat, queue. */
import { findAlbum, findShow, TRACKS } from './catalogue.js';
import type { RouteTable, WebApiContext } from './context.js';
import {
  badRequest,
  jsonResponse,
  noContent,
  notFound,
  playerError,
  webApiError,
} from './errors.js';
import { checkMarket, intParam, ParamError, parseUri } from './params.js';
import { itemObject } from './routes-playlists.js';
import { type DeviceRecord, itemDuration, type PlayerRecord } from './state.js';

const READ_STATE = ['user-read-playback-state'];
const MODIFY = ['user-modify-playback-state'];

const durationOf = itemDuration;

function deviceObject(device: DeviceRecord, player: PlayerRecord, restricted = false) {
  return {
    id: device.id,
    is_active: device.id === player.activeDeviceId,
    is_private_session: false,
    is_restricted: restricted,
    name: device.name,
    type: device.type,
    volume_percent: device.volumePercent,
    supports_volume: device.supportsVolume,
  };
}

function contextObject(c: WebApiContext, uri: string | null) {
  if (uri === null) return null;
  const [, type = '', id = ''] = uri.split(':');
  return {
    type,
    href: `${c.links.api}/${type}s/${id}`,
    external_urls: { spotify: `https://open.spotify.com/${type}/${id}` },
    uri,
  };
}

const activeDevice = (player: PlayerRecord) =>
  player.devices.find((device) => device.id === player.activeDeviceId);

/** What `GET /me/player` and `/currently-playing` share. */
function playing(c: WebApiContext, player: PlayerRecord) {
  const current = player.current;
  const item = current === null ? null : (itemObject(c, current) ?? null);
  const progress = c.state.progress(player, durationOf(current ?? undefined));
  const disallows: Record<string, boolean> = player.isPlaying
    ? { resuming: true }
    : { pausing: true };
  if (!hasNext(player)) disallows.skipping_next = true;
  if (!hasPrevious(player)) disallows.skipping_prev = true;
  return {
    context: contextObject(c, player.contextUri),
    timestamp: c.now(),
    progress_ms: progress,
    is_playing: player.isPlaying,
    item,
    currently_playing_type: current?.startsWith('spotify:episode:') ? 'episode' : 'track',
    actions: { disallows },
  };
}

const hasNext = (player: PlayerRecord) =>
  player.queue.length > 0 ||
  player.index + 1 < player.uris.length ||
  (player.repeat === 'context' && player.uris.length > 0);
const hasPrevious = (player: PlayerRecord) =>
  player.index > 0 || (player.repeat === 'context' && player.uris.length > 0);

/**
 * The checks every command shares, in Spotify's order: Premium, then the
 * device (`device_id` must be known; it becomes the active one), then an
 * active device. Returns the player, or the refusal.
 */
function command(c: WebApiContext): PlayerRecord | Response {
  const user = c.state.user(c.userId);
  if (user !== undefined && user.product !== 'premium') return playerError('PREMIUM_REQUIRED');
  const player = c.state.player(c.userId);
  const deviceId = c.url.searchParams.get('device_id');
  if (deviceId !== null) {
    if (!player.devices.some((device) => device.id === deviceId))
      return notFound('Device not found');
    player.activeDeviceId = deviceId;
  }
  if (activeDevice(player) === undefined) return playerError('NO_ACTIVE_DEVICE');
  return player;
}

/** Starts `uri` at `progressMs`, playing. */
function start(c: WebApiContext, player: PlayerRecord, uri: string | null, progressMs = 0) {
  player.current = uri;
  player.progressMs = progressMs;
  player.since = c.now();
  player.isPlaying = uri !== null;
}

/** Records the item that was playing in the history (what `recently-played` lists). */
function remember(c: WebApiContext, player: PlayerRecord) {
  if (player.current === null || !player.current.startsWith('spotify:track:')) return;
  c.state.library(c.userId).history.push({
    uri: player.current,
    playedAt: c.now(),
    contextUri: player.contextUri,
  });
}

/** The items of a context URI, `undefined` when it is not a playable context. */
function contextItems(c: WebApiContext, uri: string): string[] | undefined {
  const parsed = parseUri(uri);
  if (parsed === undefined) return undefined;
  switch (parsed.type) {
    case 'album':
      return findAlbum(parsed.id)?.trackIds.map((id) => `spotify:track:${id}`);
    case 'artist': {
      const tracks = TRACKS.filter((track) => track.artistIds.includes(parsed.id));
      return tracks.length === 0 ? undefined : tracks.map((track) => `spotify:track:${track.id}`);
    }
    case 'playlist':
      return c.state.playlists.get(parsed.id)?.items.map((item) => item.uri);
    case 'show':
      return findShow(parsed.id)?.episodeIds.map((id) => `spotify:episode:${id}`);
    default:
      return undefined;
  }
}

async function bodyObject(c: WebApiContext): Promise<Record<string, unknown>> {
  const body = await c.json();
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ParamError('Malformed json');
  return body as Record<string, unknown>;
}

export const PLAYER_ROUTES: RouteTable = {
  'GET /me/player': {
    user: true,
    anyScope: READ_STATE,
    handle(c) {
      checkMarket(c.url);
      const player = c.state.player(c.userId);
      const device = activeDevice(player);
      if (device === undefined) return noContent();
      return jsonResponse({
        device: deviceObject(device, player),
        repeat_state: player.repeat,
        shuffle_state: player.shuffle,
        ...playing(c, player),
      });
    },
  },
  'GET /me/player/currently-playing': {
    user: true,
    anyScope: ['user-read-currently-playing', 'user-read-playback-state'],
    handle(c) {
      checkMarket(c.url);
      const player = c.state.player(c.userId);
      if (activeDevice(player) === undefined || player.current === null) return noContent();
      return jsonResponse(playing(c, player));
    },
  },
  'GET /me/player/devices': {
    user: true,
    anyScope: READ_STATE,
    handle(c) {
      const player = c.state.player(c.userId);
      const user = c.state.user(c.userId);
      const restricted = user !== undefined && user.product !== 'premium';
      return jsonResponse({
        devices: player.devices.map((device) => deviceObject(device, player, restricted)),
      });
    },
  },
  'PUT /me/player': {
    user: true,
    anyScope: MODIFY,
    async handle(c) {
      const body = await bodyObject(c);
      const ids = body.device_ids;
      if (!Array.isArray(ids) || ids.length !== 1 || typeof ids[0] !== 'string')
        return badRequest('device_ids must be an array of exactly one device id');
      if (body.play !== undefined && typeof body.play !== 'boolean')
        return badRequest('play must be a boolean');
      const user = c.state.user(c.userId);
      if (user !== undefined && user.product !== 'premium') return playerError('PREMIUM_REQUIRED');
      const player = c.state.player(c.userId);
      if (!player.devices.some((device) => device.id === ids[0]))
        return notFound('Device not found');
      const progress = c.state.progress(player, durationOf(player.current ?? undefined));
      player.activeDeviceId = ids[0];
      player.progressMs = progress;
      player.since = c.now();
      if (body.play === true) player.isPlaying = player.current !== null;
      return noContent();
    },
  },
  'PUT /me/player/play': {
    user: true,
    anyScope: MODIFY,
    async handle(c) {
      const body = await bodyObject(c);
      const player = command(c);
      if (player instanceof Response) return player;
      const { context_uri: contextUri, uris, offset, position_ms: positionMs } = body;
      if (
        positionMs !== undefined &&
        !(Number.isInteger(positionMs) && (positionMs as number) >= 0)
      )
        return badRequest('position_ms must be a non-negative integer');
      if (contextUri !== undefined && uris !== undefined)
        return badRequest('Only one of context_uri and uris can be specified');
      if (contextUri === undefined && uris === undefined) {
        if (player.current === null) return playerError('NO_SPECIFIC_TRACK');
        if (player.isPlaying && positionMs === undefined) return playerError('ALREADY_PLAYING');
        const progress = c.state.progress(player, durationOf(player.current));
        start(c, player, player.current, (positionMs as number | undefined) ?? progress);
        return noContent();
      }
      let items: string[];
      if (contextUri !== undefined) {
        if (typeof contextUri !== 'string') return badRequest('Invalid context uri');
        const found = contextItems(c, contextUri);
        if (found === undefined) return badRequest('Invalid context uri');
        items = found;
      } else {
        if (!Array.isArray(uris) || uris.length === 0)
          return badRequest('uris must be a non-empty array');
        items = uris.map((uri) => {
          const parsed = typeof uri === 'string' ? parseUri(uri) : undefined;
          if (
            parsed === undefined ||
            !['track', 'episode'].includes(parsed.type) ||
            itemObject(c, parsed.uri) === undefined
          )
            throw new ParamError('Invalid track uri');
          return parsed.uri;
        });
      }
      let index = 0;
      if (offset !== undefined) {
        const { position, uri } = (offset ?? {}) as { position?: unknown; uri?: unknown };
        if (typeof position === 'number') index = position;
        else if (typeof uri === 'string') index = items.indexOf(uri);
        else return badRequest('offset needs position or uri');
        if (!Number.isInteger(index) || index < 0 || index >= items.length)
          return playerError('NO_SPECIFIC_TRACK');
      }
      if (items.length === 0) return playerError('NO_SPECIFIC_TRACK');
      remember(c, player);
      player.contextUri = contextUri === undefined ? null : (contextUri as string);
      player.uris = items;
      player.index = index;
      start(c, player, items[index] ?? null, (positionMs as number | undefined) ?? 0);
      return noContent();
    },
  },
  'PUT /me/player/pause': {
    user: true,
    anyScope: MODIFY,
    handle(c) {
      const player = command(c);
      if (player instanceof Response) return player;
      if (!player.isPlaying) return playerError('ALREADY_PAUSED');
      player.progressMs = c.state.progress(player, durationOf(player.current ?? undefined));
      player.isPlaying = false;
      return noContent();
    },
  },
  'POST /me/player/next': {
    user: true,
    anyScope: MODIFY,
    handle(c) {
      const player = command(c);
      if (player instanceof Response) return player;
      if (!hasNext(player)) return playerError('NO_NEXT_TRACK');
      remember(c, player);
      const queued = player.queue.shift();
      if (queued !== undefined) start(c, player, queued);
      else {
        player.index = (player.index + 1) % player.uris.length;
        start(c, player, player.uris[player.index] ?? null);
      }
      return noContent();
    },
  },
  'POST /me/player/previous': {
    user: true,
    anyScope: MODIFY,
    handle(c) {
      const player = command(c);
      if (player instanceof Response) return player;
      if (!hasPrevious(player)) return playerError('NO_PREV_TRACK');
      player.index = (player.index - 1 + player.uris.length) % player.uris.length;
      start(c, player, player.uris[player.index] ?? null);
      return noContent();
    },
  },
  'PUT /me/player/seek': {
    user: true,
    anyScope: MODIFY,
    handle(c) {
      const position = intParam(c.url, 'position_ms', { min: 0 });
      const player = command(c);
      if (player instanceof Response) return player;
      if (player.current === null) return playerError('NOT_PLAYING_TRACK');
      player.progressMs = Math.min(position, durationOf(player.current));
      player.since = c.now();
      return noContent();
    },
  },
  'PUT /me/player/repeat': {
    user: true,
    anyScope: MODIFY,
    handle(c) {
      const state = c.url.searchParams.get('state');
      if (state === null) return badRequest('Missing required parameter: state');
      if (state !== 'track' && state !== 'context' && state !== 'off')
        return badRequest('Invalid state');
      const player = command(c);
      if (player instanceof Response) return player;
      player.repeat = state;
      return noContent();
    },
  },
  'PUT /me/player/volume': {
    user: true,
    anyScope: MODIFY,
    handle(c) {
      const volume = intParam(c.url, 'volume_percent', { min: 0, max: 100 });
      const player = command(c);
      if (player instanceof Response) return player;
      const device = activeDevice(player);
      if (device === undefined || !device.supportsVolume)
        return playerError(
          'VOLUME_CONTROL_DISALLOW',
          'Player command failed: Cannot control device volume',
        );
      device.volumePercent = volume;
      return noContent();
    },
  },
  'PUT /me/player/shuffle': {
    user: true,
    anyScope: MODIFY,
    handle(c) {
      const state = c.url.searchParams.get('state');
      if (state === null) return badRequest('Missing required parameter: state');
      if (state !== 'true' && state !== 'false') return badRequest('Invalid state');
      const player = command(c);
      if (player instanceof Response) return player;
      player.shuffle = state === 'true';
      return noContent();
    },
  },
  'GET /me/player/queue': {
    user: true,
    anyScope: ['user-read-currently-playing', 'user-read-playback-state'],
    handle(c) {
      const player = c.state.player(c.userId);
      if (activeDevice(player) === undefined || player.current === null)
        return jsonResponse({ currently_playing: null, queue: [] });
      const upcoming = [...player.queue, ...player.uris.slice(player.index + 1)].slice(0, 20);
      return jsonResponse({
        currently_playing: itemObject(c, player.current) ?? null,
        queue: upcoming.flatMap((uri) => itemObject(c, uri) ?? []),
      });
    },
  },
  'POST /me/player/queue': {
    user: true,
    anyScope: MODIFY,
    handle(c) {
      const raw = c.url.searchParams.get('uri');
      if (raw === null || raw === '') return badRequest('Missing required parameter: uri');
      const parsed = parseUri(raw);
      if (parsed === undefined || !['track', 'episode'].includes(parsed.type))
        return badRequest('Invalid uri');
      if (itemObject(c, parsed.uri) === undefined) return webApiError(404, 'Resource not found');
      const player = command(c);
      if (player instanceof Response) return player;
      player.queue.push(parsed.uri);
      return noContent();
    },
  },
};
