/**
 * A follower asks the leader: GET on the leading CLC's admin API, at the URL
 * the leader advertised with its term (clc_terms.api_url), with the admin
 * token every CLC of the cloud shares (operators copy the token file).
 * Anything but an answer — no leader yet, the newest term is this CLC's own
 * stale one, a refused connection, no answer within the time-out — is
 * LEADER_UNREACHABLE (503), so the caller can say so with the leadership view.
 */
import type { ApiResponse, Leadership } from '../contracts.ts';
import { UserError, errorMessage } from '../../shared/errors.ts';

export const LEADER_TIMEOUT_MS = 2000;

export async function leaderGet(leadership: Leadership, token: string, path: string, options: { readonly timeoutMs?: number } = {}): Promise<ApiResponse> {
  const view = await leadership.view();
  const leader = view.leader;
  if (leader === undefined || leader.clcId === leadership.id || leader.apiUrl === undefined) {
    throw new UserError('LEADER_UNREACHABLE', leader === undefined ? 'no CLC leads yet' : `no other CLC leads at the moment (the newest term, ${leader.term}, is ${leader.clcId}'s${leader.apiUrl === undefined ? ', without an API URL' : ''})`, { status: 503 });
  }
  const url = `${leader.apiUrl.replace(/\/+$/, '')}${path}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(options.timeoutMs ?? LEADER_TIMEOUT_MS) });
    text = await res.text();
  } catch (err) {
    throw new UserError('LEADER_UNREACHABLE', `the leading CLC ${leader.clcId} (term ${leader.term}) at ${leader.apiUrl} does not answer: ${errorMessage(err)}`, { status: 503, cause: err });
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch (err) {
    throw new UserError('LEADER_UNREACHABLE', `the leading CLC ${leader.clcId} at ${leader.apiUrl} answered ${res.status} with something that is not JSON`, { status: 503, cause: err });
  }
  return { status: res.status, body };
}
