/**
 * A follower asks the leader: GET on the leading CLC's admin API (through
 * shared/admin-client.ts, like every client of it), at the URL
 * the leader advertised with its term (clc_terms.api_url), with the admin
 * token every CLC of the cloud shares (operators copy the token file).
 * Anything but an answer — no leader yet, the newest term is this CLC's own
 * stale one, a refused connection, no answer within the time-out — is
 * LEADER_UNREACHABLE (503), so the caller can say so with the leadership view.
 */
import type { ApiResponse, Leadership } from '../contracts.ts';
import { UserError, errorMessage } from '../../shared/errors.ts';
import { createApiClient } from '../../shared/admin-client.ts';

/** What the admin client says when it got no usable answer (as opposed to the leader's own error). */
const TRANSPORT_CODES: ReadonlySet<string> = new Set(['CLC_UNREACHABLE', 'CLC_TIMEOUT', 'BAD_RESPONSE', 'ABORTED']);

export const LEADER_TIMEOUT_MS = 2000;

export async function leaderGet(leadership: Leadership, token: string, path: string, options: { readonly timeoutMs?: number } = {}): Promise<ApiResponse> {
  const view = await leadership.view();
  const leader = view.leader;
  if (leader === undefined || leader.clcId === leadership.id || leader.apiUrl === undefined) {
    throw new UserError('LEADER_UNREACHABLE', leader === undefined ? 'no CLC leads yet' : `no other CLC leads at the moment (the newest term, ${leader.term}, is ${leader.clcId}'s${leader.apiUrl === undefined ? ', without an API URL' : ''})`, { status: 503 });
  }
  const client = createApiClient({ url: leader.apiUrl, token, timeoutMs: options.timeoutMs ?? LEADER_TIMEOUT_MS });
  try {
    return { status: 200, body: await client.request('GET', path) };
  } catch (err) {
    // The leader answered with an error of its own: passed on as it said it.
    if (err instanceof UserError && !TRANSPORT_CODES.has(err.code)) {
      return { status: err.status, body: { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } } };
    }
    throw new UserError('LEADER_UNREACHABLE', `the leading CLC ${leader.clcId} (term ${leader.term}) at ${leader.apiUrl} does not answer: ${errorMessage(err)}`, { status: 503, cause: err });
  }
}
