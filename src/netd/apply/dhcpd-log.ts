/**
 * Why a dhcpd died, from its own log: ISC dhcpd prints the cause once and then
 * the same boilerplate for every fatal error ("If you think you have received
 * this message due to a bug … on either our web page …", "exiting."), which is
 * what the last lines of the log show and what an operator must not be given
 * as the reason. This finds the line that explains it (`No subnet declaration
 * for br0 (…)`, `…/dhcpd.leases line 3: …`, `Can't bind to dhcp address: …`).
 */

/** Lines that are never the reason: the banner, the files, the start-up chatter. */
const CHATTER = [
  /^Internet Systems Consortium DHCP Server/,
  /^Copyright \d/,
  /^All rights reserved\./,
  /^For info, please visit/,
  /^(Config|Database|PID) file:/,
  /^Wrote \d+ (deleted host decls|new dynamic host decls|leases) to leases file\./,
  /^(Listening|Sending) on /,
  /^Server starting service\./,
  /^Source compiled to use binary-leases/,
  /^exiting\.$/,
];

/** ISC's closing paragraph after every fatal error (log_fatal). */
const BOILERPLATE_START = /^If you think you have received this message due to a bug/;
const BOILERPLATE_END = /^(process and the information we find helpful for debugging\.|exiting\.)$/;

/** The line of the last run's log that says why dhcpd exited; undefined when the log says nothing useful. */
export function dhcpdFailureReason(log: string): string | undefined {
  const lines = log.split('\n');
  // Only the last run: the log is appended to on every start.
  let start = 0;
  lines.forEach((l, i) => {
    if (/^Internet Systems Consortium DHCP Server/.test(l)) start = i;
  });
  let inBoilerplate = false;
  let inNotice = false;
  for (const raw of lines.slice(start)) {
    const line = raw.trim();
    if (BOILERPLATE_START.test(line)) inBoilerplate = true;
    if (inBoilerplate) {
      if (BOILERPLATE_END.test(line)) inBoilerplate = false;
      continue;
    }
    // "** Ignoring requests on br0.  If this is not what … attached. **": a consequence, not the cause.
    if (line.startsWith('** ')) inNotice = !line.endsWith('**') || line === '**';
    else if (inNotice) {
      if (line.endsWith('**')) inNotice = false;
      continue;
    }
    if (line.startsWith('** ') || line === '' || line === '^' || CHATTER.some((re) => re.test(line))) continue;
    return line;
  }
  return undefined;
}
