/** Writers and parsers for iptables, ip6tables, ebtables and ipset text, on the typed rule model (rule.ts). */
export * from './rule.ts';
export * from './rule-args.ts';
export * from './model.ts';
export * from './iptables.ts';
export * from './ebtables.ts';
export * from './ipset.ts';
export { canonicalProtocol } from './protocols.ts';
export { splitArgs, quoteArg, safeComment } from './tokens.ts';
