/**
 * What an error becomes on the EC2 endpoint (issue 15): THE one table from
 * edgenet's codes that EC2 does not have to EC2's codes, and the HTTP status
 * of every EC2 code.
 *
 * - An error with an EC2 code (the services throw InvalidGroup.NotFound,
 *   InvalidPermission.Duplicate, … themselves; the endpoint throws
 *   SignatureDoesNotMatch, UnknownParameter, …) keeps its code. Its status is
 *   EC2's, not the admin API's 404/409: client errors are 400, except the
 *   ones in EC2_STATUS.
 * - An edgenet code is translated by EDGENET_TO_EC2 (per action where EC2
 *   distinguishes: an exhausted pool is AddressLimitExceeded on
 *   AllocateAddress, InsufficientInstanceCapacity on RunInstances); the
 *   message keeps the original code in parentheses, so an operator can find
 *   it in docs and logs.
 * - DB_UNAVAILABLE (the CLC's PostgreSQL is away; nothing changed) is
 *   ServiceUnavailable with 503, which EC2 SDKs retry with back-off.
 * - Any other client error (an edgenet code not in the table) is
 *   InvalidParameterValue with its code in the message.
 * - Anything else (a bug, the database) is InternalError with no internals
 *   in the message; `unexpected` tells the server to log it with its stack.
 */
import { UserError } from '../../shared/errors.ts';
import { EC2_ERROR_CODES, type Ec2ErrorCode, type EdgenetErrorCode } from '../../shared/error-codes.ts';

/** EC2 codes whose status is not 400. */
const EC2_STATUS: Readonly<Partial<Record<Ec2ErrorCode, number>>> = {
  AuthFailure: 401,
  MissingAuthenticationToken: 401,
  SignatureDoesNotMatch: 403,
  RequestTimeout: 408,
  RequestEntityTooLarge: 413,
  InternalError: 500,
  RequestLimitExceeded: 503,
  ServiceUnavailable: 503,
};

interface Translation {
  readonly code: Ec2ErrorCode;
  /** Where one action means something else by it. */
  readonly byAction?: Readonly<Record<string, Ec2ErrorCode>>;
}

/** Edgenet codes an EC2 action can meet, as EC2 codes. */
const EDGENET_TO_EC2: Readonly<Partial<Record<EdgenetErrorCode, Translation>>> = {
  // Over EC2 an account is named only by the UserId of a source group pair: the group is not found.
  ACCOUNT_NOT_FOUND: { code: 'InvalidGroup.NotFound' },
  NETWORK_NOT_CONFIGURED: { code: 'UnsupportedOperation' },
  // Placement.AvailabilityZone and Placement.HostId.
  CLUSTER_NOT_FOUND: { code: 'InvalidParameterValue' },
  CLUSTER_NOT_CONFIGURED: { code: 'InvalidParameterValue' },
  NODE_NOT_FOUND: { code: 'InvalidParameterValue' },
  NODE_NOT_IN_CLUSTER: { code: 'InvalidParameterValue' },
  INVALID_NODE_NAME: { code: 'InvalidParameterValue' },
  ADDRESS_POOL_EXHAUSTED: { code: 'AddressLimitExceeded', byAction: { RunInstances: 'InsufficientInstanceCapacity' } },
  // A PrivateIpAddress that is taken, held after a release, or reserved.
  ADDRESS_IN_USE: { code: 'InvalidIPAddress.InUse' },
  ADDRESS_HELD: { code: 'InvalidIPAddress.InUse' },
  ADDRESS_RESERVED: { code: 'InvalidIPAddress.InUse' },
  ADDRESS_NOT_IN_POOL: { code: 'InvalidParameterValue' },
  MALFORMED_REQUEST: { code: 'InvalidParameterValue' },
  // PostgreSQL away (issue 16): nothing was changed, the client retries with back-off.
  DB_UNAVAILABLE: { code: 'ServiceUnavailable' },
};

export interface Ec2ErrorAnswer {
  readonly status: number;
  readonly code: Ec2ErrorCode;
  readonly message: string;
  /** Not a refusal but a failure: log it with its stack. */
  readonly unexpected: boolean;
}

function isEc2Code(code: string): code is Ec2ErrorCode {
  return Object.hasOwn(EC2_ERROR_CODES, code);
}

function ec2Status(code: Ec2ErrorCode): number {
  return EC2_STATUS[code] ?? 400;
}

const INTERNAL_MESSAGE = 'An internal error has occurred; the cloud controller\'s log has the details under this request id.';

/** `err` as the endpoint answers it, for `action` (undefined before the action is known). */
export function toEc2Error(err: unknown, action?: string): Ec2ErrorAnswer {
  if (err instanceof UserError) {
    if (isEc2Code(err.code)) {
      if (err.code === 'InternalError') return { status: 500, code: 'InternalError', message: INTERNAL_MESSAGE, unexpected: true };
      return { status: ec2Status(err.code), code: err.code, message: err.message, unexpected: false };
    }
    const translation = EDGENET_TO_EC2[err.code];
    if (translation) {
      const code = (action !== undefined ? translation.byAction?.[action] : undefined) ?? translation.code;
      return { status: ec2Status(code), code, message: `${err.message} (${err.code})`, unexpected: false };
    }
    if (err.status < 500) return { status: 400, code: 'InvalidParameterValue', message: `${err.message} (${err.code})`, unexpected: false };
  }
  return { status: 500, code: 'InternalError', message: INTERNAL_MESSAGE, unexpected: true };
}
