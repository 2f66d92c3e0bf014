// PLACEHOLDER: replaced by the part that owns src/cloud-controller/metadata/.
import type { ClcPlugin } from '../contracts.ts';

export function metadataPlugin(): ClcPlugin {
  return { name: 'metadata', start: async () => undefined, stop: async () => undefined };
}
