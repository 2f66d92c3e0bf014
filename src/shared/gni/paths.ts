/**
 * XPath-like paths for GNI diagnostics. Named objects are addressed by their
 * `name` attribute (`instance[@name='i-1a2b3c4d']`); an object without a name
 * falls back to its 1-based position (`instance[3]`).
 */

const ROOT = 'network-data';
const CONFIG = `${ROOT}/configuration`;

function named(tag: string, name: string, index: number): string {
  return name === '' ? `${tag}[${index + 1}]` : `${tag}[@name='${name.replace(/'/g, '&apos;')}']`;
}

function join(base: string, rest?: string): string {
  return rest === undefined || rest === '' ? base : `${base}/${rest}`;
}

export const gniPaths = {
  root: (rest?: string) => join(ROOT, rest),
  property: (name: string, rest?: string) => join(`${CONFIG}/property[@name='${name}']`, rest),
  value: (property: string, index: number) => `${CONFIG}/property[@name='${property}']/value[${index + 1}]`,
  subnet: (name: string, index: number, rest?: string) => join(`${CONFIG}/property[@name='subnets']/${named('subnet', name, index)}`, rest),
  cluster: (name: string, index: number, rest?: string) => join(`${CONFIG}/property[@name='clusters']/${named('cluster', name, index)}`, rest),
  instance: (name: string, index: number, rest?: string) => join(`${ROOT}/instances/${named('instance', name, index)}`, rest),
  group: (name: string, index: number, rest?: string) => join(`${ROOT}/securityGroups/${named('securityGroup', name, index)}`, rest),
  named,
};
