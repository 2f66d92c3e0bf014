/** Writers and parsers for iptables, ebtables and ipset text, on the renderer's model. */
export * from './model.ts';
export * from './iptables.ts';
export * from './ebtables.ts';
export * from './ipset.ts';
export { canonicalProtocol } from './protocols.ts';
export { splitArgs, quoteArg, safeComment } from './tokens.ts';
