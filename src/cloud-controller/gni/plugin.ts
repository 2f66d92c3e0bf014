// PLACEHOLDER: replaced by the part that owns src/cloud-controller/gni/.
import type { ClcPlugin } from '../contracts.ts';

export function gniPlugin(): ClcPlugin {
  return { name: 'gni', start: async () => undefined, stop: async () => undefined };
}
