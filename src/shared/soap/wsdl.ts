/**
 * Where the services' WSDL files live: `wsdl/` at the top of the repository
 * (or of the installed tree, which keeps the same layout). The CC and the NC
 * serve their own on `GET ?wsdl` (server.ts), so the location is shared here
 * rather than one daemon importing it from the other.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The SOAP services edgenet serves, by WSDL file name. */
export type WsdlService = 'cluster-controller' | 'node-controller';

function wsdlPath(service: WsdlService): string {
  return fileURLToPath(new URL(`../../../wsdl/${service}.wsdl`, import.meta.url));
}

/** The service's WSDL text, with `EDGENET_SERVICE_URL` for the server to fill in. */
export function readWsdl(service: WsdlService): string {
  return readFileSync(wsdlPath(service), 'utf8');
}
