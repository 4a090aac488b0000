/** What a Web API route handler gets, and how routes are declared. */
import type { Links } from './objects.js';
import type { WebApiState } from './state.js';

/** The access token behind a request. */
export interface TokenContext {
  clientId: string;
  /** `undefined` for a client-credentials (app) token. */
  userId: string | undefined;
  scopes: ReadonlySet<string>;
  /** The app has extended quota (not Development Mode): withdrawn endpoints still answer. */
  extendedQuota: boolean;
}

export interface WebApiContext {
  request: Request;
  url: URL;
  links: Links;
  params: Record<string, string>;
  token: TokenContext;
  /** The token's user (routes declared `user: true` only run with one). */
  userId: string;
  state: WebApiState;
  now(): number;
  /** The JSON body (at most 256 KiB); throws a `ParamError` (400) for anything else. */
  json(): Promise<unknown>;
}

export interface Route {
  /** Needs a user's token (client-credentials tokens are refused). */
  user?: boolean;
  /** The token needs at least one of these scopes. */
  anyScope?: readonly string[];
  handle(context: WebApiContext): Response | Promise<Response>;
}

export type RouteTable = Record<string, Route>;
