/**
 * The EC2 actions the endpoint serves (issue 15), by name. server.ts answers
 * any other Action with InvalidAction. Each action lives in ec2/actions/ by
 * the resource it acts on.
 */
import type { Ec2Action } from './contract.ts';
import { ADDRESS_ACTIONS } from './actions/addresses.ts';
import { GROUP_ACTIONS } from './actions/groups.ts';
import { INSTANCE_ACTIONS } from './actions/instances.ts';
import { ZONE_ACTIONS } from './actions/zones.ts';

export const EC2_ACTIONS_BY_NAME: ReadonlyMap<string, Ec2Action> = new Map([...GROUP_ACTIONS, ...ADDRESS_ACTIONS, ...INSTANCE_ACTIONS, ...ZONE_ACTIONS].map((a) => [a.name, a]));
