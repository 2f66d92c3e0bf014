/**
 * Method + path routing with `:param` segments. Routes are matched in
 * registration order; a path that matches with another method answers 405.
 * Path parameters are URL-decoded (an address or a group name may contain
 * characters that travel encoded).
 */
import type { ApiHandler } from '../contracts.ts';
import { EdgenetError } from '../../shared/errors.ts';

interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly handler: ApiHandler;
  readonly isPublic: boolean;
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: ApiHandler; readonly params: Record<string, string>; readonly isPublic: boolean }
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'not-found' };

const split = (path: string) => path.split('/').filter((s) => s !== '');

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: ApiHandler, options: { public?: boolean } = {}): void {
    const m = method.toUpperCase();
    if (!pattern.startsWith('/')) throw new EdgenetError('INVALID_ROUTE', `route pattern must start with "/": ${pattern}`);
    if (this.routes.some((r) => r.method === m && r.pattern === pattern)) {
      throw new EdgenetError('DUPLICATE_ROUTE', `route ${m} ${pattern} is already registered`);
    }
    this.routes.push({ method: m, pattern, segments: split(pattern), handler, isPublic: options.public ?? false });
  }

  match(method: string, path: string): RouteMatch {
    const parts = split(path);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method.toUpperCase()) return { kind: 'found', handler: route.handler, params, isPublic: route.isPublic };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
  }

  list(): { method: string; pattern: string; public: boolean }[] {
    return this.routes.map((r) => ({ method: r.method, pattern: r.pattern, public: r.isPublic }));
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return undefined;
      }
    } else if (p !== v) return undefined;
  }
  return params;
}
