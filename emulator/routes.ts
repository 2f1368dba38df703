import { issueTenantToken } from './api/auth';
import { botInfo, getChat } from './api/chats';
import { getUser } from './api/contact';
import { deleteEphemeral, sendEphemeral } from './api/ephemeral';
import type { Handler } from './api/exchange';
import { createFeedCards, deleteFeedCards } from './api/feed-cards';
import { connectionEndpoint } from './api/long-connection';
import { getChatMembers, getMessage } from './api/message-get';
import { recallMessage } from './api/message-recall';
import { createMessage, replyToMessage } from './api/message-send';
import { updateCard } from './api/message-update';
import { createTask, deleteTask, getTask, patchTask, subscribeTaskEvents } from './api/tasks';

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /** Only the token call and the long connection's endpoint call go without a tenant token. */
  open?: boolean;
}

function route(method: string, path: string, handler: Handler, open = false): Route {
  const pattern = new RegExp(`^${path.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`);
  return { method, pattern, handler, open };
}

const ROUTES: Route[] = [
  route('POST', '/open-apis/auth/v3/tenant_access_token/internal', issueTenantToken, true),
  route('POST', '/callback/ws/endpoint', connectionEndpoint, true),
  route('GET', '/open-apis/bot/v3/info', botInfo),
  route('GET', '/open-apis/im/v1/chats/:chat_id', getChat),
  route('GET', '/open-apis/im/v1/chats/:chat_id/members', getChatMembers),
  route('GET', '/open-apis/im/v1/messages/:message_id', getMessage),
  route('GET', '/open-apis/contact/v3/users/:user_id', getUser),
  route('POST', '/open-apis/ephemeral/v1/send', sendEphemeral),
  route('POST', '/open-apis/ephemeral/v1/delete', deleteEphemeral),
  route('POST', '/open-apis/im/v1/messages', createMessage),
  route('POST', '/open-apis/im/v1/messages/:message_id/reply', replyToMessage),
  route('PATCH', '/open-apis/im/v1/messages/:message_id', updateCard),
  route('DELETE', '/open-apis/im/v1/messages/:message_id', recallMessage),
  route('POST', '/open-apis/im/v2/app_feed_card', createFeedCards),
  route('DELETE', '/open-apis/im/v2/app_feed_card/batch', deleteFeedCards),
  route('POST', '/open-apis/task/v2/tasks', createTask),
  route('GET', '/open-apis/task/v2/tasks/:task_guid', getTask),
  route('PATCH', '/open-apis/task/v2/tasks/:task_guid', patchTask),
  route('DELETE', '/open-apis/task/v2/tasks/:task_guid', deleteTask),
  route('POST', '/open-apis/task/v2/task_v2/task_subscription', subscribeTaskEvents),
];

export interface RouteMatch {
  handler: Handler;
  open: boolean;
  params: Record<string, string>;
}

export function findRoute(method: string, path: string): RouteMatch | null {
  for (const candidate of ROUTES) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    const params = Object.fromEntries(Object.entries(match.groups ?? {}).map(([name, value]) => [name, decodeURIComponent(value)]));
    return { handler: candidate.handler, open: candidate.open ?? false, params };
  }
  return null;
}
