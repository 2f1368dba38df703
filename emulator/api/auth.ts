import { Code, FeishuError } from '../errors';
import type { EmulatorState } from '../state';
import type { Handler } from './exchange';

/** The token answer is top-level, not under `data`: the SDK reads `tenant_access_token` from the root. */
export const issueTenantToken: Handler = (call, state) => {
  const body = (call.body ?? {}) as { app_id?: unknown; app_secret?: unknown };
  if (body.app_id !== state.appId || body.app_secret !== state.appSecret) {
    throw new FeishuError(400, Code.appSecretInvalid, 'app secret invalid');
  }
  const { token, expire } = state.issueToken();
  return { body: { code: 0, msg: 'ok', tenant_access_token: token, expire } };
};

export function authorize(authorization: string | undefined, state: EmulatorState): void {
  const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  if (token === undefined) {
    throw new FeishuError(400, Code.tokenMissing, 'Missing access token for authorization. Please make a request with token attached.');
  }
  if (!state.isLiveToken(token)) {
    throw new FeishuError(400, Code.tokenInvalid, 'Invalid access token for authorization. Please make a request with token attached.');
  }
}
