import type {} from '@fastify/cookie';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Actor } from '../domain/actor.js';
import type { UserView } from '../api/views.js';
import type { CachedKey, CachedOrg } from '../operations/caller.js';

/** The Fastify instance with the TypeBox type provider, as every route module receives it. */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in person, set by the session guard on `/api` routes. */
    actor: Actor | undefined;
    user: UserView | undefined;
    /** The verified key of a gateway request (also set when a known key was refused). */
    gatewayKey: CachedKey | undefined;
    gatewayOrg: CachedOrg | undefined;
  }
  interface FastifyContextConfig {
    /** `/api` routes reachable without a session (sign-up, sign-in, invitation acceptance). */
    public?: boolean;
  }
}
