/**
 * The plugins the cloud controller process runs next to its store and admin API:
 * the GNI preview routes, the broadcaster + convergence tracker, and the
 * metadata service. main.ts starts them in this order and stops them in reverse.
 */
import type { ClcPlugin } from './contracts.ts';
import { gniPlugin } from './gni/plugin.ts';
import { broadcastPlugin } from './broadcast/plugin.ts';
import { metadataPlugin } from './metadata/plugin.ts';

export function defaultPlugins(): ClcPlugin[] {
  return [gniPlugin(), broadcastPlugin(), metadataPlugin()];
}
