/**
 * The methods each path answers, for the 405 of a wrong method on an existing path (RFC 9110
 * §15.5.6: with an `Allow` header). Fastify's router matches method and path together, so such a
 * request reaches the not-found handler like an unknown path; only there is its path matched
 * again, against the routes recorded as they were added. A request that has a route (every
 * gateway call) never does any of this work.
 */
import type { App } from './types.js';

interface RecordedRoute {
  pattern: string;
  methods: string[];
}

interface CompiledRoute {
  matches: RegExp;
  methods: readonly string[];
}

/** The portal's page fallback (http/static.ts) answers GET for every path: it says nothing about one. */
const CATCH_ALL = '/*';

/** Matches a router pattern: `:name` one segment, `*` the rest; everything else as written. */
function patternToRegExp(pattern: string): RegExp {
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}

/** Every route of `app` (and of the plugins registered after this call), recorded as it is added. */
export class RouteMethods {
  readonly #routes: RecordedRoute[] = [];
  /** Compiled at the first lookup: the routes are all added by then (the server is listening). */
  #compiled: CompiledRoute[] | undefined;

  constructor(app: App) {
    app.addHook('onRoute', (route) => {
      if (route.url === CATCH_ALL) return;
      this.#routes.push({ pattern: route.url, methods: [route.method].flat() });
      this.#compiled = undefined;
    });
  }

  /** The methods `path` answers, sorted (HEAD wherever GET is); empty when no route has that path. */
  allowed(path: string): string[] {
    this.#compiled ??= this.#routes.map((route) => ({ matches: patternToRegExp(route.pattern), methods: route.methods }));
    const methods = new Set<string>();
    for (const route of this.#compiled) {
      if (!route.matches.test(path)) continue;
      for (const method of route.methods) methods.add(method);
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}
