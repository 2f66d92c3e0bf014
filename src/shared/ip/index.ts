/**
 * The IP arithmetic module: IPv4 numbers (`ipv4.ts`, the hot paths), IPv6
 * bigints (`ipv6.ts`), the IPv4 space that is no unicast host (`ipv4-reserved.ts`), the family-tagged address and CIDR (`address.ts`),
 * ranges and pools of either family (`address-range.ts`), and addresses
 * derived from MACs (`eui64.ts`). Importers use `src/shared/ip.ts`.
 */
export * from './ipv4.ts';
export * from './ipv6.ts';
export * from './address.ts';
export * from './address-range.ts';
export * from './eui64.ts';
export * from './ipv6-ranges.ts';
export * from './ipv4-reserved.ts';
