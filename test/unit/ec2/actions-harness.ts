/**
 * Handler-level harness for the EC2 actions (issue 15): a real in-memory
 * CloudState (test/unit/clc/fixture.ts: clusters C1 and C2 with one node
 * each, 3 public addresses, the admin account's group `web`), two tenant
 * accounts made as the admin API makes them (each with its `default` group),
 * and `call(caller, action, params)`, which refuses a parameter the action
 * does not declare, as the server does, before calling the handler.
 */
import { randomUUID } from 'node:crypto';
import { EC2_ACTIONS_BY_NAME } from '../../../src/cloud-controller/ec2/actions.ts';
import type { Ec2Caller, XmlObject, XmlValue } from '../../../src/cloud-controller/ec2/contract.ts';
import { matcherFor } from '../../../src/cloud-controller/ec2/query.ts';
import { ADMIN_ACCOUNT_ID } from '../../../src/cloud-controller/services/accounts.ts';
import { populated, type Fixture } from '../clc/fixture.ts';

export interface Ec2Fixture extends Fixture {
  readonly webId: string;
  readonly admin: Ec2Caller;
  readonly a: Ec2Caller & { readonly defaultGroupId: string };
  readonly b: Ec2Caller & { readonly defaultGroupId: string };
  call(caller: Ec2Caller, action: string, params?: Readonly<Record<string, string | number>>): Promise<XmlObject>;
}

export async function ec2Fixture(): Promise<Ec2Fixture> {
  const f = await populated();
  const tenant = async (name: string) => {
    const made = await f.state.createAccount({ name });
    return { accountId: made.account.id, accessKeyId: made.accessKey.accessKeyId, admin: false, defaultGroupId: made.defaultGroupId };
  };
  const a = await tenant('tenant-a');
  const b = await tenant('tenant-b');
  const admin: Ec2Caller = { accountId: ADMIN_ACCOUNT_ID, accessKeyId: 'AKIEADMINADMINADMIN2', admin: true };
  async function call(caller: Ec2Caller, action: string, params: Readonly<Record<string, string | number>> = {}): Promise<XmlObject> {
    const handler = EC2_ACTIONS_BY_NAME.get(action);
    if (handler === undefined) throw new Error(`no action ${action} in the registry`);
    const undeclared = Object.keys(params).filter((n) => !matcherFor(handler.params).matches(n));
    if (undeclared.length > 0) throw Object.assign(new Error(`${action} does not declare ${undeclared.join(', ')}`), { code: 'UnknownParameter' });
    const map = new Map(Object.entries(params).map(([k, v]) => [k, String(v)] as const));
    return handler.handle({ requestId: randomUUID(), action, version: '2016-11-15', params: map, caller, region: 'eucalyptus' }, { state: f.state, now: () => f.clock.now() });
  }
  f.changes.length = 0;
  return { ...f, admin, a, b, call };
}

/** Runs `fn` on a fresh fixture, closed afterwards even when `fn` fails. */
export async function withFixture(fn: (f: Ec2Fixture) => Promise<void>): Promise<void> {
  const f = await ec2Fixture();
  try {
    await fn(f);
  } finally {
    await f.close();
  }
}

/** The items of a list value (`securityGroupInfo`, …). */
export function items(value: XmlValue): XmlObject[] {
  if (!Array.isArray(value)) throw new Error(`expected a list, got ${JSON.stringify(value)}`);
  return value as XmlObject[];
}

/** A deep copy without undefined values (what the XML writer leaves out), for deepEqual. */
export function plain(value: XmlValue): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** IpPermissions entries of every kind: tcp with IPv4 and IPv6 ranges, icmp type/code, icmpv6 any, udp from the account's `default` group. */
export const MIXED_PERMISSIONS: Readonly<Record<string, string | number>> = {
  'IpPermissions.1.IpProtocol': 'tcp',
  'IpPermissions.1.FromPort': 22,
  'IpPermissions.1.ToPort': 22,
  'IpPermissions.1.IpRanges.1.CidrIp': '10.0.0.0/8',
  'IpPermissions.1.IpRanges.2.CidrIp': '192.168.0.0/16',
  'IpPermissions.1.Ipv6Ranges.1.CidrIpv6': '2001:DB8::/32',
  'IpPermissions.2.IpProtocol': 'icmp',
  'IpPermissions.2.FromPort': 8,
  'IpPermissions.2.ToPort': 0,
  'IpPermissions.2.IpRanges.1.CidrIp': '0.0.0.0/0',
  'IpPermissions.3.IpProtocol': 'icmpv6',
  'IpPermissions.3.FromPort': -1,
  'IpPermissions.3.ToPort': -1,
  'IpPermissions.3.Ipv6Ranges.1.CidrIpv6': '::/0',
  'IpPermissions.4.IpProtocol': 'udp',
  'IpPermissions.4.FromPort': 1000,
  'IpPermissions.4.ToPort': 2000,
  'IpPermissions.4.Groups.1.GroupName': 'default',
};
