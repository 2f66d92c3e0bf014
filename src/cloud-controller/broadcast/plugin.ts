// PLACEHOLDER: replaced by the part that owns src/cloud-controller/broadcast/.
import type { ClcPlugin } from '../contracts.ts';

export function broadcastPlugin(): ClcPlugin {
  return { name: 'broadcast', start: async () => undefined, stop: async () => undefined };
}
