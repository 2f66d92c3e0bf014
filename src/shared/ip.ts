/**
 * IP arithmetic, one import for both families: the IPv4 number API
 * (`parseIp`, `parseCidr`, ranges, ...) that the hot paths use, and the
 * family-tagged API (`IpAddress`, `parseAddress`, `IpCidr`, `AddressRange`)
 * for code that handles IPv4 and IPv6 alike. The code lives in `./ip/`.
 */
export * from './ip/index.ts';
