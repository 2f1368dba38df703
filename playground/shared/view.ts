/**
 * What the page receives from the playground's server: one person's view of one of their chats. Shared by the server,
 * which builds it, and the page, which draws it; nothing here may depend on Node or on the DOM.
 */

export interface PersonView {
  openId: string;
  name: string;
  role: string;
  timeZone: string;
}

export type MessageBody = { kind: 'text'; text: string } | { kind: 'card'; card: unknown } | { kind: 'recalled' };

export interface MessageView {
  id: string;
  /** When it was sent, by the shared clock (ms). */
  at: number;
  senderId: string;
  /** An ephemeral card: only its owner gets it at all. */
  onlyYou: boolean;
  body: MessageBody;
  /** In a topic group, the topic it starts or belongs to. */
  threadId?: string;
  /** The message this one replies to, quoted above it. */
  replyTo?: { id: string; senderId: string; body: MessageBody };
}

export interface FeedCardView {
  userId: string;
  title: string;
  preview?: string;
  status?: { text: string; type: string };
  at: number;
}

/** A Feishu Task, as its members see it in their Feishu Task list. */
export interface TaskView {
  guid: string;
  summary: string;
  /** Assignees and followers: whose Feishu Task list shows it. */
  memberIds: string[];
  completed: boolean;
  dueAt?: number;
}

/** A person completing or reopening a task in their Feishu Task app. */
export interface TaskChangeRequest {
  userId: string;
  guid: string;
  change: 'complete' | 'reopen';
}

/**
 * A chat in the person's chat list: an ordinary group, a topic group (话题群), or their direct chat with the bot.
 * `messages` counts what they can see there, so the page can tell what is new.
 */
export interface ChatView {
  id: string;
  name: string;
  kind: 'group' | 'topic' | 'direct';
  /** The people in it, the bot included. */
  memberCount: number;
  messages: number;
}

export interface PlaygroundView {
  /** The chat shown. */
  chat: ChatView;
  /** Every chat the viewer is in, the one shown included. */
  chats: ChatView[];
  bot: { openId: string; name: string };
  people: PersonView[];
  viewer: string;
  now: number;
  messages: MessageView[];
  /** Every person's app feed cards. */
  feedCards: FeedCardView[];
  /** Feishu Tasks (task sync), not deleted. */
  tasks: TaskView[];
}

/** A click on a card, as the page reports it to the server. */
export interface ClickRequest {
  operator: string;
  messageId: string;
  click: { tag: string; name?: string | undefined; value?: Record<string, unknown> | undefined; formValue?: Record<string, unknown> | undefined };
}

export interface Toast {
  type: 'success' | 'error' | 'warning' | 'info';
  content: string;
  i18n?: Record<string, string>;
}
