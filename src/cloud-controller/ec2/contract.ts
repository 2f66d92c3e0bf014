/**
 * The EC2 Query endpoint's internal contract (issue 15): what the HTTP side
 * (server.ts: SigV4, size and rate limits, form decoding, XML) hands an
 * action, and what an action gives back.
 *
 * The flow: server.ts reads the request (POST form body or GET query),
 * verifies the signature (sigv4.ts) and finds the caller's account, checks
 * `Version`, looks the `Action` up in the registry (actions.ts; unknown:
 * InvalidAction), refuses parameters the action does not declare
 * (UnknownParameter), calls `handle`, and writes the result as
 * `<{Action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`
 * with `<requestId>` first and the result's fields after it (xml.ts).
 * A thrown UserError becomes `<Response><Errors><Error><Code>…` (errors.ts
 * maps edgenet codes that EC2 does not have to EC2 ones).
 *
 * Actions call CloudState, the same services as the admin API: no rule,
 * pool or error is implemented twice.
 */
import type { CloudState } from '../services/cloud-state.ts';

export const EC2_API_VERSION = '2016-11-15';
export const EC2_XML_NAMESPACE = `http://ec2.amazonaws.com/doc/${EC2_API_VERSION}/`;

/** Who signed the request. */
export interface Ec2Caller {
  readonly accountId: string;
  readonly accessKeyId: string;
  /**
   * The admin account (000000000001): its describes list every account's
   * resources and it may act on any account's resource named by id; names
   * resolve within its own account.
   */
  readonly admin: boolean;
}

export interface Ec2Request {
  /** UUID, also in the response's `<requestId>` and the log line. */
  readonly requestId: string;
  readonly action: string;
  readonly version: string;
  /** Every decoded parameter except Action and Version, in the order sent; names are case-sensitive as EC2's. */
  readonly params: ReadonlyMap<string, string>;
  readonly caller: Ec2Caller;
  /** The region of the signature's credential scope (DescribeAvailabilityZones answers with it). */
  readonly region: string;
}

/**
 * A response body as data: an object's keys are elements in insertion order;
 * an array becomes `<item>` children of its key's element (EC2's list shape);
 * strings, numbers and booleans are text (escaped); undefined is left out.
 */
export type XmlValue = string | number | boolean | undefined | XmlObject | readonly XmlValue[];
export interface XmlObject {
  readonly [element: string]: XmlValue;
}

export interface Ec2Deps {
  readonly state: CloudState;
  readonly now: () => number;
}

export interface Ec2Action {
  /** `DescribeSecurityGroups`. */
  readonly name: string;
  /**
   * The parameters the action takes: exact names (`GroupName`) or patterns in
   * which `N` stands for a 1-based index (`GroupId.N`, `IpPermissions.N.IpRanges.N.CidrIp`,
   * `Filter.N.Name`, `Filter.N.Value.N`). Anything else is UnknownParameter.
   */
  readonly params: readonly string[];
  handle(request: Ec2Request, deps: Ec2Deps): Promise<XmlObject>;
}
