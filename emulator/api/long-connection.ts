import { Code } from '../errors';
import { CONNECTION_PATH, SERVICE_ID } from '../long-connection/gateway';
import type { Handler } from './exchange';

/**
 * `POST /callback/ws/endpoint {AppID, AppSecret}`: where the SDK's `WSClient` learns its WebSocket URL and timings.
 * Answered with HTTP 200 either way; a refusal carries `data: {}` (the SDK reads `data.URL` before it looks at the
 * code: without an object there it would crash and retry forever instead of giving up).
 */
export const connectionEndpoint: Handler = (call, state) => {
  const body = (call.body ?? {}) as { AppID?: unknown; AppSecret?: unknown };
  if (body.AppID !== state.appId || body.AppSecret !== state.appSecret) {
    return { body: { code: Code.connectionCredentialsInvalid, msg: 'app_id or app_secret is invalid', data: {} } };
  }
  const { deviceId, ticket, accessKey } = state.grantConnection();
  // Real URLs start with `fpid`, which the Node SDK loses: it `qs.parse`s the whole URL, so the first key comes out
  // as `ws://host/ws/v2?fpid`. Only `device_id` and `service_id` matter to it, and they come later.
  const query = `fpid=493&aid=552564&device_id=${deviceId}&access_key=${accessKey}&service_id=${SERVICE_ID}&ticket=${ticket}`;
  const host = Array.isArray(call.headers.host) ? call.headers.host[0] : call.headers.host;
  return { body: { code: 0, msg: 'ok', data: { URL: `ws://${host}${CONNECTION_PATH}?${query}`, ClientConfig: state.clientConfig() } } };
};
