/**
 * The GNI admin routes inside the CLC process:
 *   GET /v1/gni               → the current document's XML text (the admin API
 *                               speaks JSON, so it arrives as one JSON string)
 *   GET /v1/gni?format=json   → the same document as the GniDocument model
 * Built from a fresh `ctx.snapshot()` without drawing a new sequence: this is
 * a preview of what the next broadcast would carry (same `version`), so
 * reading it has no side effect on the broadcast pipeline or on IPAM holds.
 * Used by `edgenet gni show`.
 */
import type { ApiRequest, ApiResponse, ClcContext, ClcPlugin } from '../contracts.ts';
import { UserError } from '../../shared/errors.ts';
import { serializeGni } from '../../shared/gni/codec.ts';
import { buildGni } from './builder.ts';

export function gniPlugin(): ClcPlugin {
  return {
    name: 'gni',
    async start(ctx: ClcContext): Promise<void> {
      ctx.route('GET', '/v1/gni', (req) => showGni(ctx, req));
    },
    async stop(): Promise<void> {},
  };
}

async function showGni(ctx: Pick<ClcContext, 'snapshot'>, req: Pick<ApiRequest, 'query'>): Promise<ApiResponse> {
  const format = req.query.get('format') ?? 'xml';
  if (format !== 'xml' && format !== 'json') {
    throw new UserError('InvalidParameterValue', `format must be "xml" or "json", not "${format}"`, { status: 400 });
  }
  const doc = buildGni(await ctx.snapshot(), {});
  return { status: 200, body: format === 'json' ? doc : serializeGni(doc) };
}
