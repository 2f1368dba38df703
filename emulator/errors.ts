/**
 * Feishu's refusals. A handler throws one; the server turns it into the HTTP answer Feishu would give.
 * The codes used by the emulator, in one place so a test author can look them up:
 */
export const Code = {
  badParam: 230001,
  notInAvailability: 230013,
  recalled: 230011,
  rateLimitedInChat: 230020,
  cardTooLarge: 230025,
  noRecallPermission: 230026,
  updateWindowPassed: 230031,
  cardRejected: 230099,
  alreadyDeleted: 230110,
  chatDissolved: 232009,
  /** "Your request specifies a chat_id which is invalid" (232010 is another tenant's chat, which the emulator has none of). */
  chatNotFound: 232006,
  ephemeralDeleted: 18051,
  appSecretInvalid: 10014,
  /** The long connection's endpoint call, HTTP 200: "app_id or app_secret is invalid". */
  connectionCredentialsInvalid: 1000040345,
  /** The same call when Feishu is busy: the SDK retries it. */
  connectionBusy: 1000040343,
  tokenMissing: 99991661,
  tokenInvalid: 99991663,
  appRateLimited: 99991400,
  malformedRequest: 9499,
  /** The app lacks every scope the call accepts. */
  scopeMissing: 99991672,
  /** The person is outside the app's contact range. */
  noUserAuthority: 41050,
  /** Task v2: a bad parameter (HTTP 400), the call not permitted on this task (403), the task gone (404), a server error (500). */
  taskBadParam: 1470400,
  taskForbidden: 1470403,
  taskNotFound: 1470404,
  taskServerError: 1470500,
} as const;

export class FeishuError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** More of Feishu's `error` object, beside the `log_id` every refusal carries. */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badParam = (msg: string) => new FeishuError(400, Code.badParam, msg);

export const refuse = (code: number, msg: string) => new FeishuError(400, code, msg);

/** How Feishu refuses a call the app lacks every scope for: HTTP 400, 99991672, the acceptable scopes named twice. */
export function scopeMissing(scopes: readonly string[]): FeishuError {
  return new FeishuError(
    400,
    Code.scopeMissing,
    `Access denied. One of the following scopes is required: [${scopes.join(', ')}].`,
    {},
    { permission_violations: scopes.map((subject) => ({ type: 'action_scope_required', subject })) },
  );
}
