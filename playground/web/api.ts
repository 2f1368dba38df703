import type { ClickRequest, PlaygroundView, TaskChangeRequest, Toast } from '../shared/view';

/** The playground server's API, as the page calls it. Every write is JSON, which the server insists on. */

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export const api = {
  /** Without a viewer, the server picks the chat's first person (its owner); without a chat, the ordinary group. */
  view: (viewer?: string, chat?: string) => {
    const query = new URLSearchParams({ ...(viewer && { viewer }), ...(chat && { chat }) }).toString();
    return call<PlaygroundView>('GET', `/api/state${query ? `?${query}` : ''}`);
  },
  say: (sender: string, chatId: string, text: string, parentId?: string) =>
    call<{ status: number }>('POST', '/api/messages', { sender, chatId, text, parentId }),
  click: (request: ClickRequest) => call<{ toast?: Toast }>('POST', '/api/actions', request),
  changeTask: (request: TaskChangeRequest) => call<{ eventTypes: string[] }>('POST', '/api/tasks', request),
  moveClock: (minutes: number) => call<{ now: number }>('POST', '/api/clock', { minutes }),
};
