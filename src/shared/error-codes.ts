/**
 * The registry of error codes: every code edgenet throws (EdgenetError and its
 * subclasses), answers with (admin API `{error: {code}}`, SOAP Fault
 * `detail/code`, CLI `--json` errors) or logs as a stable code is defined here
 * once, with what it means. Callers and tests switch on codes, never on wording.
 *
 * Two lists, because two vocabularies travel on the wire:
 * - `ERROR_CODES`: edgenet's own, SCREAMING_SNAKE_CASE.
 * - `EC2_ERROR_CODES`: Amazon EC2's own error codes (`InvalidGroup.NotFound`),
 *   verbatim, because the admin API answers the EC2-shaped operations
 *   (groups, rules, addresses, instances) with the code an EC2 client expects.
 *   Only codes EC2 itself defines belong there.
 *
 * A code is stable API: never renamed or reused for another meaning; a new
 * failure gets a new code. `EdgenetError`/`UserError` take an `ErrorCode`, so
 * the compiler refuses a code that is not listed; test/unit/error-codes.test.ts
 * checks that every listed code is used and that the casing holds.
 *
 * Diagnostics (`{severity, code, path, message}`, several per input) have
 * their own registries, named after what they validate:
 * - src/cloud-controller/config/codes.ts: cloud.network.network_configuration
 *   (documented in docs/config.md);
 * - src/cloud-controller/properties/registry.ts: the other properties' value
 *   checks (InvalidMacPrefix, OutOfRange, ..., documented in
 *   docs/cloud-controller.md), answered inside INVALID_PROPERTY;
 * - src/shared/gni/codes.ts: the GNI codec and validator (`GNI_*`);
 * - src/shared/config/checks.ts, settings.ts, conf-file.ts: daemon
 *   configuration (`--check-config`);
 * - src/netd/render/sanitize.ts (with routed-sanitize.ts, ROUTED's hook) and src/shared/gni/rule-check.ts: what netd
 *   leaves out of a document before rendering it.
 * - src/shared/gni/routed.ts (NodeBgpProblemCode): checkNodeBgp, a node's
 *   BGP values in a ROUTED document (netd refuses them as ROUTED_BGP_INVALID).
 * A code may appear both here and in one of those only with the same meaning
 * (a missing TLS file is `TLS_CERT_MISSING` whether `--check-config` reports it
 * or a daemon fails to start on it); the test checks the overlap.
 * Not ours and not listed: SOAP 1.1 `faultcode` values (Client, Server), Node
 * errno codes (ENOENT), SQLite's and commander's codes.
 */

export const ERROR_CODES = {
  // Anywhere
  INTERNAL: 'A bug: something edgenet did not expect (the message says what).',
  ABORTED: 'The operation was interrupted (SIGTERM, Ctrl-C or an aborted signal) before it finished.',
  TIMEOUT: 'A wait for a condition ran out of time.',
  EXEC_FAILED: 'A host command exited non-zero or was killed; the error carries argv, exit code and stderr.',
  LISTEN_FAILED: 'A server could not bind its listen address (in use, or not an address of this host).',

  // Daemon configuration and TLS material (the first six are also --check-config diagnostics)
  CONFIG_INVALID: 'The configuration has errors; the diagnostics say which; the daemon exits 2.',
  CONFIG_UNREADABLE: 'A configuration file cannot be read.',
  CONFIG_BAD_VALUE: 'A configuration value does not parse (for example a NODES entry that is neither an IPv4 address nor name=https://host:port/).',
  TLS_CA_MISSING: 'The CA certificate (ca.crt) does not exist.',
  TLS_CERT_MISSING: 'The certificate (<name>.crt) does not exist.',
  TLS_KEY_MISSING: 'The private key (<name>.key) does not exist.',
  TLS_UNREADABLE: 'A certificate or key exists but cannot be read by this user.',
  TLS_KEY_PERMISSIONS: 'A private key is readable by group or others; refused until it is chmod 600.',
  CLC_CERTIFICATE_MISSING: 'The CLC cannot load its own client certificate, so no CC was dialled (the CLC is at fault, not the CC).',

  // Certificates (edgenet certs)
  CA_EXISTS: '`certs init` on a directory that already holds a CA.',
  NO_CA: '`certs issue` on a directory without a CA.',
  BAD_CERT_NAME: 'A certificate name is not 1-63 of [A-Za-z0-9._-] or is "ca".',
  BAD_DNS_NAME: 'A --dns value is not a DNS name.',
  BAD_IP: 'An --ip value is not an IPv4 address.',

  // SOAP transport (CLC -> CC -> NC): Fault detail/code and refusals
  BAD_REQUEST: 'The HTTP request is unusable (bad Content-Length, body stream error).',
  REQUEST_TIMEOUT: 'The request body stopped arriving for longer than the idle limit (HTTP 408).',
  REQUEST_TOO_LARGE: 'The request body exceeds the size limit (HTTP 413).',
  METHOD_NOT_ALLOWED: 'An HTTP method the endpoint does not serve (HTTP 405).',
  UNAUTHENTICATED: 'The SOAP client presented no verified certificate (HTTP 403).',
  FORBIDDEN_ROLE: 'The SOAP client certificate has a role this service does not accept (HTTP 403).',
  MALFORMED_XML: 'The body is not well-formed XML.',
  XML_DTD_FORBIDDEN: 'A document type declaration or entity definition, which edgenet never accepts.',
  MALFORMED_SOAP: 'Well-formed XML that is not a SOAP Envelope with one Body element.',
  UNKNOWN_OPERATION: 'The SOAP Body names an operation this service does not implement.',
  MISSING_FIELD: 'A required field of the SOAP message is missing.',
  BAD_FIELD: 'A field of the SOAP message has a value of the wrong form.',
  BAD_BASE64: 'networkInfo is not valid Base64.',
  REFUSED: 'The peer answered `return=false`: it did not accept the call.',
  SOAP_FAULT: 'The peer answered with a SOAP Fault whose detail/code is not one of these codes.',
  PEER_ROLE: 'The server certificate does not have the role the client expected to call.',
  UNREACHABLE: 'The peer could not be reached (connection refused, reset, DNS, TLS).',
  RESPONSE_TOO_LARGE: 'The peer\'s answer exceeds the response size limit.',
  // Eucalyptus transport (WS-Security X.509, opt-in listener: docs/security.md)
  WSSEC_UNSIGNED: 'A request on the Eucalyptus listener without a WS-Security header, signature, timestamp or BinarySecurityToken.',
  WSSEC_BAD_SIGNATURE: 'A WS-Security signature that does not verify, does not cover the Body and the Timestamp, uses an algorithm or reference we refuse, or points at a wrapped element.',
  WSSEC_UNTRUSTED_CERTIFICATE: 'The BinarySecurityToken is not the configured Eucalyptus certificate (EUCA_WSSEC_CERT).',
  WSSEC_EXPIRED: 'The signed Timestamp has expired, or was created in the future beyond the allowed clock skew.',
  WSSEC_REPLAYED: 'A signed request (same signed Timestamp and Body) that was already accepted.',
  WSSEC_REPLAY_CACHE_FULL: 'The replay cache holds its maximum of unexpired entries; the request is refused rather than risk a replay.',

  // Documents held by the CC, the NC and netd (src/shared/freshness.ts)
  NOT_A_GNI: 'networkInfo does not hold a <network-data> document.',
  VERSION_MISMATCH: 'The request\'s version differs from the version inside the document.',
  SEQUENCE_MISMATCH: 'The request\'s sequence differs from the sequence inside the document.',
  GENERATION_MISMATCH: 'The request\'s generation differs from the generation inside the document.',
  STALE_GENERATION: 'The document\'s generation is older than the held one (a restored or older CLC database); refused.',
  STALE_SEQUENCE: 'The document\'s sequence is older than the held one in the same generation; refused.',
  SEQUENCE_CONFLICT: 'Same sequence as the held document but different content; refused.',
  UNSEQUENCED: 'The document carries no sequence while the held one does; refused unless ACCEPT_UNSEQUENCED=Y.',
  STATE_CORRUPT: 'The stored document file cannot be read back; move it away to start empty.',

  // netd
  NOT_IN_DOCUMENT: 'This node is not listed under any cluster of the document.',
  BAD_CLUSTER_SUBNET: 'The cluster\'s subnet, netmask or gateway does not parse.',
  BRIDGE_MAC_UNKNOWN: 'NC_ROUTER=Y with an empty NC_ROUTER_IP needs the bridge MAC, which is unknown.',
  NO_BRIDGE_ADDRESS_IN_SUBNET: 'NC_ROUTER_IP=AUTO and no bridge address lies inside the cluster subnet.',
  CONFLICTING_INSTANCES: 'Two local instances claim the same private IP or MAC.',
  UNSUPPORTED_MODE: 'The document is in a network mode this netd does not implement.',
  ROUTED_CLUSTER_INVALID: "ROUTED: the node's cluster has no valid routed addressing (ipv4, ipv6, dual), or it disagrees with the cluster's IPv4 pool and IPv6 prefix; nothing is applied.",
  ROUTED_GATEWAY_INVALID: 'ROUTED: the instance-side gateways are not a unicast IPv4 and a link-local (fe80::/10) IPv6 address; nothing is applied.',
  ROUTED_BGP_INVALID: "ROUTED: this node's bgp settings in the document fail the BGP value check (shared/gni/routed.ts checkNodeBgp); nothing is applied, and a running bird keeps its sessions and its last configuration.",
  RESTORE_FAILED: 'iptables-restore, ebtables-restore or ipset restore refused a transaction; the kernel keeps the previous state.',
  APPLY_FAILED: 'A step of applying the desired state failed; the error names the step.',
  DHCPD_DIED: 'dhcpd exited right after it was started.',
  RADVD_DIED: 'radvd (the router-advertisement server of a dual-stack cluster) exited right after it was started.',
  BIRD_DIED: 'bird (the BGP speaker of a ROUTED node) exited right after it was started.',
  PROCESS_CONFIG_REFUSED: "A supervised daemon's own check refused its rendered configuration: not started or reloaded (a running one keeps its previous configuration).",
  CONFIG_DRIVE_FAILED: "A ROUTED instance's config drive could not be built (genisoimage failed, or a name that is not an instance id): its files are written, its ISO is missing or stale; netd reports it per instance in its status and retries on the next sync.",
  PROCESS_DRIVER_MISSING: 'A supervised process of a kind no driver is registered for (a bug).',
  IPV6_UNAVAILABLE: "The node's cluster is dual-stack but the node's kernel has no IPv6 (ipv6.disable=1); the sync is refused and nothing is changed (IPv4 included).",
  RULE_FAMILY_MISMATCH: 'A rule carries an address of the other family than the table it is written for (a bug).',
  SYNC_FAILED: 'A netd sync did not converge the host (`netd --once`).',
  ADOPT_NO_DOCUMENT: '`netd adopt` found no usable document: eucanetd\'s state is left alone rather than removed without ours.',
  ADOPT_EUCANETD_RUNNING: '`netd adopt` found eucanetd running (its pid file names a live eucanetd); stop and disable it first.',
  ADOPT_USER_RULES: '`netd adopt` found admin rules in eucanetd\'s user-hook chains and was not told to discard them.',
  ADOPT_DHCPD_STUCK: '`netd adopt` could not stop eucanetd\'s dhcpd (still alive after SIGKILL).',

  // CLC database and backups
  DB_OPEN_FAILED: 'The CLC database cannot be opened.',
  DB_CLOSED: 'A query on a database that was already closed (the CLC is stopping).',
  DB_URL_INVALID: 'DB names a PostgreSQL URL that cannot be one (no database, bad port, not a URL).',
  DB_UNAVAILABLE: 'The database (PostgreSQL) cannot be reached or refused the connection; nothing was changed: retry when it is back.',
  DB_COMMIT_UNKNOWN: 'The database connection was lost while committing and the CLC could not learn whether the write committed; look before retrying.',
  UPSTREAM_UNAVAILABLE: 'A proxy in front of a CLC (the lab relay) could not reach it: the request was not delivered, another CLC may be asked.',
  NOT_LEADER: 'A leader-only step (drawing a broadcast sequence) was attempted by a CLC that no longer leads; the new leader does it.',
  LEADER_UNREACHABLE: 'A follower CLC could not reach the leading CLC (none leads at the moment, or its admin API does not answer) for what only the leader knows (GET /v1/status convergence); HTTP 503 with the leadership view.',
  DB_TOO_NEW: 'The database schema is newer than this edgenet.',
  DB_NOT_FOUND: 'No database at the given path.',

  // Importing a Eucalyptus cloud's state (edgenet import gni)
  IMPORT_DATABASE_NOT_EMPTY: 'The CLC database already holds state (property, clusters, nodes, instances, groups, addresses or leases); an import seeds an empty database only.',
  IMPORT_UNSUPPORTED_ID: 'The document has an instance id, group id or owner in a form edgenet does not keep (i-/sg- + 8 lowercase hex, 12-digit accounts).',
  IMPORT_INCONSISTENT: 'The document describes a state the CLC could not rebuild (an instance on no node or two, shared MAC or address, a cluster without enabledCCIp or missing from the property).',
  IMPORT_INVALID_USER_DATA: "An instance's user data in the document (ROUTED routed extension user-data) is not what the API accepts (valid base64, at most 16 KiB decoded).",
  DB_IN_USE: 'The database is in use by a running CLC; stop it before restoring or importing.',
  NOT_A_CLC_DATABASE: 'The file is an SQLite database but not an edgenet CLC database.',
  BACKUP_EXISTS: 'The backup destination exists; a backup never overwrites.',
  BACKUP_FAILED: 'Copying the database failed, or the copy fails its integrity check.',
  BACKUP_NOT_FOUND: 'No backup at the given path.',
  BACKUP_CORRUPT: 'The backup fails its integrity check.',
  BACKUP_KIND_MISMATCH: 'The backup was taken on the other kind of database (SQLite vs PostgreSQL); restore it with DB of its kind.',
  DB_RESTORE_FAILED: 'Loading the backup into PostgreSQL failed (psql); nothing was restored (one transaction).',
  RESTORE_TARGET_NOT_EMPTY: 'The PostgreSQL database to restore into holds tables; a restore loads into an empty database only.',

  // CLC admin API and its token
  MALFORMED_REQUEST: 'The request body is not valid JSON, or a path parameter is malformed.',
  NOT_FOUND: 'No route for this method and path (HTTP 404).',
  UNAUTHORIZED: 'No admin token, or the wrong one (HTTP 401).',
  INVALID_ROUTE: 'A route pattern that does not start with "/" (a bug).',
  DUPLICATE_ROUTE: 'The same method and pattern registered twice (a bug).',
  TOKEN_EMPTY: 'The admin token file is empty.',
  TOKEN_SHORT: 'Warning: the admin token is shorter than the minimum length (guessable).',
  TOKEN_FILE_SYMLINK: 'The admin token file is a symbolic link; refused.',
  TOKEN_FILE_NOT_REGULAR: 'The admin token file is not a regular file.',
  TOKEN_FILE_PERMISSIONS: 'The admin token file is readable by group or others; refused until it is chmod 600.',
  METADATA_BAD_LISTEN: 'The metadata listen address is not host:port, :port or off.',

  // Accounts and EC2 access keys (issue 15)
  ACCOUNT_NOT_FOUND: 'No account by that id or name.',
  ACCOUNT_EXISTS: 'An account by that name already exists.',
  ACCOUNT_IN_USE: 'The account still owns groups, addresses or instances (or is the admin account).',
  ACCESS_KEY_NOT_FOUND: 'No access key by that id.',
  ACCESS_KEY_LIMIT: 'The account already has the most access keys it may have (2, as IAM).',
  CREDENTIALS_KEY_UNAVAILABLE: 'The credentials key file (CREDENTIALS_KEY_FILE) is missing, unreadable or not the key that sealed the stored secrets.',
  CREDENTIALS_KEY_SYMLINK: 'The credentials key file is a symbolic link; refused.',
  CREDENTIALS_KEY_NOT_REGULAR: 'The credentials key file is not a regular file.',
  CREDENTIALS_KEY_PERMISSIONS: 'The credentials key file is readable by group or others; refused until it is chmod 600.',
  CREDENTIALS_KEY_INVALID: 'The credentials key file does not hold a key (64 hex characters: 32 bytes).',
  EC2_BAD_LISTEN: 'EC2_LISTEN is not host:port, :port or off.',

  // CLC topology, properties and addresses
  CLUSTER_NOT_FOUND: 'No cluster by that name is registered.',
  CLUSTER_ALREADY_EXISTS: 'A cluster by that name is already registered.',
  CLUSTER_IN_USE: 'The cluster still has instances (or a new network configuration would drop a cluster in use).',
  CLUSTER_NOT_CONFIGURED: 'The cluster is registered but not listed in cloud.network.network_configuration.',
  CC_ALREADY_IN_USE: 'The cluster controller URL already serves another cluster: one CC serves one cluster.',
  NODE_NOT_FOUND: 'No node by that name is registered.',
  NODE_ALREADY_EXISTS: 'A node by that name is already registered.',
  NODE_IN_USE: 'The node still hosts instances.',
  NODE_NOT_IN_CLUSTER: 'The node is registered under another cluster.',
  INVALID_NODE_NAME: 'A node name is not an IPv4 address (Eucalyptus names nodes by address).',
  INVALID_URL: 'A CC or NC URL is not https://HOST:PORT/.',
  NETWORK_NOT_CONFIGURED: 'cloud.network.network_configuration is not set yet.',
  CLUSTER_WITHOUT_CC_ADDRESS: 'A registered cluster has no CC address: the CLC builds no document rather than one every Eucalyptus 4.4 eucanetd refuses (enabledCCIp is mandatory) or one that drops the cluster\'s nodes.',
  UNKNOWN_PROPERTY: 'No property by that name.',
  INVALID_PROPERTY: 'A property value that fails validation; the diagnostics say why.',
  INVALID_CONFIGURATION: 'A network configuration document that fails validation (CLI offline check, or an invalid document handed to explode).',
  EXPLODE_FAILED: 'A valid network configuration that still cannot be expanded into clusters and pools.',
  ADDRESS_NOT_IN_POOL: 'The requested address is not in the pool it was requested from.',
  ADDRESS_POOL_EXHAUSTED: 'No free address in the pool (the details count allocated, held and reserved ones).',
  ADDRESS_IN_USE: 'The requested address is already allocated.',
  ADDRESS_HELD: 'The address was released recently and is held until every node has applied a document without it.',
  ADDRESS_RESERVED: 'The address is externally reserved.',
  ADDRESS_ALREADY_RESERVED: 'The address is already reserved.',
  RESERVATION_NOT_FOUND: 'The address is not reserved.',
  MAC_NOT_IN_PREFIX: 'A requested instance MAC does not start with its cluster\'s MacPrefix (the first two octets).',
  MAC_IN_USE: 'A requested instance MAC is already another instance\'s.',

  // CLI
  USAGE_ERROR: 'A bad command line (unknown flag, missing argument); exit 2.',
  FAILED: 'A command failed after it printed its own result (for example a rejected `property set`); exit 1.',
  FILE_UNREADABLE: 'An input file named on the command line cannot be read.',
  TOKEN_FILE_UNREADABLE: 'The admin token file named with --token-file cannot be read.',
  CONFIG_UNUSABLE: 'The clc.conf named with --config gives no URL a client can use; pass --url.',
  INVALID_ASSIGNMENT: 'A NAME=VALUE argument without a name.',
  INVALID_DAYS: '--days is not a positive whole number.',
  INVALID_OUTPUT_FORMAT: '--output is not one of the formats the command offers.',
  INVALID_ROLE: '--role is not clc, cc or nc.',
  INVALID_TIMEOUT: '--timeout (or EDGENET_TIMEOUT) is not a positive duration.',
  MISSING_NODE: '--node is required.',
  INVALID_GNI: 'The input file is not a valid GNI document; the diagnostics say why.',
  CLC_TIMEOUT: 'The CLC did not answer within the client timeout.',
  CLC_UNREACHABLE: 'The CLC could not be reached.',
  BAD_RESPONSE: 'The CLC answered with something that is not JSON.',
  HTTP_ERROR: 'The CLC answered an HTTP error without a code this client knows (details.status, details.peerCode).',

  // Lab (edgenet lab)
  LAB_NEEDS_ROOT: 'The lab creates network namespaces and must run as root.',
  LAB_EXISTS: 'A lab by that name already exists.',
  LAB_NOT_UP: 'The lab is not (fully) up.',
  LAB_BAD_NAME: 'A lab name is not 1-10 of [a-z0-9].',
  LAB_BAD_PREFIX: 'A lab prefix is not 1-24 of [A-Za-z0-9_].',
  LAB_BAD_NODE: 'A lab node name is not 1-12 of [a-z0-9] or is reserved.',
  LAB_BAD_INSTANCE: 'A lab instance id is too long or has characters an interface name cannot carry.',
  LAB_BAD_NSNAME: 'A namespace name of the wrong form.',
  LAB_BAD_IFNAME: 'An interface name of the wrong form or length.',
  LAB_BAD_ENDPOINT: 'A relay endpoint is not tcp:HOST:PORT or unix:/path.',
  LAB_BAD_SPEC: 'A lab topology spec that does not hold together.',
  LAB_BAD_STATE: 'The lab state file cannot be read.',
  LAB_BUILD_FAILED: 'Building the lab topology failed (what was built is torn down).',
  LAB_TEARDOWN_FAILED: 'Parts of a lab could not be removed.',
  LAB_UNKNOWN_NODE: 'A node that is not one of the lab\'s nodes.',
  LAB_UNKNOWN_NS: 'A namespace the lab does not have.',
  LAB_UNKNOWN_DAEMON: 'A daemon name the lab does not run.',
  LAB_NODE_REQUIRED: 'A per-node daemon needs --node.',
  LAB_NODE_UNEXPECTED: 'A once-per-lab daemon takes no --node.',
  LAB_DAEMON_DIED: 'A lab daemon exited while starting.',
  LAB_DAEMON_RUNNING: 'The lab daemon is already running.',
  LAB_DAEMON_NOT_RUNNING: 'The lab daemon is not running.',
  LAB_UNKNOWN_CLC: 'A CLC the lab does not run, or a two-CLC lab\'s CLC named without its id (clc-1, clc-2).',
  LAB_POSTGRES_FAILED: 'The lab\'s PostgreSQL server (lab up --db postgres) could not be set up or started.',
  LAB_DHCP_FAILED: 'A lab instance got no DHCP lease in time.',
  LAB_DHCP_MISMATCH: 'A lab instance got a different address from DHCP than the CLC allocated.',
  LAB_SLAAC_FAILED: 'A dual-stack lab instance did not get its IPv6 address by SLAAC in time.',
  LAB_ROUTER_CONFIG: 'BIRD (bird -p) refused the ROUTED lab router\'s configuration.',
  LAB_ROUTER_FAILED: 'The ROUTED lab\'s upstream router (BIRD) did not start or its sessions did not come up in time.',
  LAB_CONFIG_DRIVE_FAILED: 'A ROUTED lab instance\'s config drive did not appear in time, or its network-config could not be applied.',
  LAB_EC2_SETUP_FAILED: 'The lab could not set up its EC2 side (the tenant account and its key).',
} as const satisfies Record<string, string>;

/**
 * Amazon EC2's error codes that the admin API answers with, verbatim (see
 * "Error codes for the Amazon EC2 API" in the EC2 API Reference).
 */
export const EC2_ERROR_CODES = {
  AuthFailure: 'The caller may not act on this resource (an address that is not associated with that instance).',
  InternalError: 'An internal error (HTTP 500).',
  InvalidParameterValue: 'A parameter has a value that is invalid, unsupported or cannot be used.',
  MissingParameter: 'A required parameter is missing.',
  'InvalidGroup.NotFound': 'No security group by that name.',
  'InvalidGroup.Duplicate': 'A security group by that name already exists.',
  'InvalidGroup.InUse': 'The security group is still used by instances or by another group\'s rules.',
  'InvalidPermission.Duplicate': 'The rule is already authorized.',
  'InvalidPermission.NotFound': 'No such rule to revoke.',
  'InvalidPermission.Malformed': 'The rule is malformed (protocol, ports, ICMP type/code or source).',
  'InvalidInstanceID.NotFound': 'No instance by that id.',
  'InvalidAddress.NotFound': 'The address is not an allocated public address.',
  'InvalidAssociation.NotFound': 'The address is not associated with an instance.',
  // The EC2 Query endpoint (issue 15): authentication, protocol, limits.
  MissingAuthenticationToken: 'The request carries no AWS Signature Version 4 (no Authorization header).',
  IncompleteSignature: 'The Authorization header or the credential scope is malformed (wrong algorithm, service, fields).',
  SignatureDoesNotMatch: 'The signature computed with the access key\'s secret differs from the one sent (wrong secret, tampered request).',
  RequestExpired: 'The x-amz-date is outside the allowed window (default 5 minutes either side of the CLC\'s clock).',
  InvalidAction: 'The Action is not one the endpoint serves.',
  UnknownParameter: 'The request names a parameter the action does not take.',
  InvalidParameterCombination: 'Two parameters that cannot be used together (a group by name and by id).',
  ServiceUnavailable: 'The service cannot handle the request at the moment (the CLC\'s database is unavailable; HTTP 503): nothing was changed, retry with back-off.',
  RequestLimitExceeded: 'The access key sent more requests than its rate limit allows (HTTP 503; retry with back-off).',
  'InvalidGroupId.Malformed': 'A group id that is not sg- + 8 hex.',
  'InvalidInstanceID.Malformed': 'An instance id that is not i- + 8 hex.',
  'InvalidAllocationID.NotFound': 'An allocation id that names no address of the caller.',
  'InvalidAssociationID.NotFound': 'An association id that names no current association of the caller\'s addresses.',
  CannotDelete: 'The default security group cannot be deleted.',
  SecurityGroupLimitExceeded: 'The account has as many security groups as cloud.accounts.max_security_groups allows.',
  RulesPerSecurityGroupLimitExceeded: 'The group would have more rules than cloud.accounts.max_rules_per_group allows.',
  AddressLimitExceeded: 'The account has as many public addresses as cloud.accounts.max_addresses allows, or the public pool is exhausted.',
  InsufficientInstanceCapacity: 'No node or private address is free for the instance in that zone.',
  UnsupportedOperation: 'The operation is not enabled on this cloud (RunInstances without cloud.ec2.run_instances).',
  MalformedQueryString: 'The form body or query string cannot be decoded (broken %-escape, not UTF-8, a POST that is not application/x-www-form-urlencoded, a parameter given twice).',
  RequestEntityTooLarge: 'The request body is larger than EC2_MAX_BODY_BYTES (HTTP 413).',
  RequestTimeout: 'The request body stopped arriving (HTTP 408).',
  'InvalidIPAddress.InUse': 'The requested private address is already in use (allocated, held after a release, or reserved).',
} as const satisfies Record<string, string>;

export type EdgenetErrorCode = keyof typeof ERROR_CODES;
export type Ec2ErrorCode = keyof typeof EC2_ERROR_CODES;
export type ErrorCode = EdgenetErrorCode | Ec2ErrorCode;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (Object.hasOwn(ERROR_CODES, code) || Object.hasOwn(EC2_ERROR_CODES, code));
}

