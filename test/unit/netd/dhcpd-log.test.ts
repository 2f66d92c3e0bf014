/**
 * dhcpd's failure reason comes from its own log, never ISC's closing
 * boilerplate (issue 10: status showed "bugs on either our web page…").
 * The logs are ISC dhcpd 4.4's own output for each failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dhcpdFailureReason } from '../../../src/netd/apply/dhcpd-log.ts';

const BANNER = `Internet Systems Consortium DHCP Server 4.4.3-P1
Copyright 2004-2022 Internet Systems Consortium.
All rights reserved.
For info, please visit https://www.isc.org/software/dhcp/
Config file: /run/edgenet/netd/dhcpd.conf
Database file: /run/edgenet/netd/dhcpd.leases
PID file: /run/edgenet/netd/dhcpd.pid
`;
const BOILERPLATE = `
If you think you have received this message due to a bug rather
than a configuration issue please read the section on submitting
bugs on either our web page at www.isc.org or in the README file
before submitting a bug.  These pages explain the proper
process and the information we find helpful for debugging.

exiting.
`;

test('no subnet declaration for the bridge', () => {
  const log = `${BANNER}Wrote 0 leases to leases file.
No subnet declaration for br0 (172.31.0.11).
** Ignoring requests on br0.  If this is not what
   you want, please write a subnet declaration
   in your dhcpd.conf file for the network segment
   to which interface br0 is attached. **


Not configured to listen on any interfaces!
${BOILERPLATE}`;
  assert.equal(dhcpdFailureReason(log), 'No subnet declaration for br0 (172.31.0.11).');
});

test('a lease file it cannot parse; only the last run counts', () => {
  const earlier = `${BANNER}Wrote 0 leases to leases file.\nNo subnet declaration for br0 (172.31.0.11).\n${BOILERPLATE}`;
  const log = `${earlier}${BANNER}/run/edgenet/netd/dhcpd.leases line 1: expecting a parameter or declaration
garbage
^
Configuration file errors encountered -- exiting
${BOILERPLATE}`;
  assert.equal(dhcpdFailureReason(log), '/run/edgenet/netd/dhcpd.leases line 1: expecting a parameter or declaration');
});

test('port 67 taken by another server', () => {
  const log = `${BANNER}Wrote 0 leases to leases file.
Listening on LPF/br0/02:11:22:33:44:55/edgenet
Sending on   LPF/br0/02:11:22:33:44:55/edgenet
Sending on   Socket/fallback/fallback-net
Can't bind to dhcp address: Address already in use
Please make sure there is no other dhcp server
running and that there's no entry for dhcp or
bootp in /etc/inetd.conf.   Also make sure you
are not running HP JetAdmin software, which
includes a bootp server.
${BOILERPLATE}`;
  assert.equal(dhcpdFailureReason(log), "Can't bind to dhcp address: Address already in use");
});

test('a log with only the banner and the boilerplate gives no reason rather than the boilerplate', () => {
  assert.equal(dhcpdFailureReason(`${BANNER}${BOILERPLATE}`), undefined);
  assert.equal(dhcpdFailureReason(''), undefined);
});
