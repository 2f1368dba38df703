import type { Lang } from './card/i18n';

/** The page's own words (not the bot's, not Feishu's client's), in the language the switch picks. */
export const PAGE_TEXT = {
  title: { zh_cn: '待办机器人演练场', en_us: 'To-do bot playground' },
  person: { zh_cn: '成员', en_us: 'Person' },
  clock: { zh_cn: '时钟', en_us: 'Clock' },
  plus10min: { zh_cn: '+10 分钟', en_us: '+10 min' },
  plus1hour: { zh_cn: '+1 小时', en_us: '+1 hour' },
  plus1day: { zh_cn: '+1 天', en_us: '+1 day' },
  hint: { zh_cn: '试试', en_us: 'Try' },
  members: { zh_cn: '{n} 位成员', en_us: '{n} members' },
  viewingAs: { zh_cn: '当前视角：{name}', en_us: 'Viewing as {name}' },
  message: { zh_cn: '消息', en_us: 'Message' },
  messageTo: { zh_cn: '发消息到 {chat}', en_us: 'Message {chat}' },
  send: { zh_cn: '发送', en_us: 'Send' },
  reply: { zh_cn: '回复', en_us: 'Reply' },
  replyTo: { zh_cn: '回复 {name}', en_us: 'Reply to {name}' },
  replyingTo: { zh_cn: '回复 {name}：', en_us: 'Replying to {name}:' },
  cancelReply: { zh_cn: '取消回复', en_us: 'Cancel reply' },
  chats: { zh_cn: '会话', en_us: 'Chats' },
  topicGroup: { zh_cn: '话题群', en_us: 'Topic group' },
  directChat: { zh_cn: '单聊', en_us: 'Direct message' },
  unread: { zh_cn: '{n} 条新消息', en_us: '{n} new' },
  newTopicIn: { zh_cn: '在 {chat} 发起新话题', en_us: 'New topic in {chat}' },
  topic: { zh_cn: '话题：{text}', en_us: 'Topic: {text}' },
  messages: { zh_cn: '消息', en_us: 'Messages' },
  owner: { zh_cn: '群主', en_us: 'Group owner' },
  member: { zh_cn: '成员', en_us: 'Member' },
  feedOf: { zh_cn: '{name} 的消息流', en_us: "{name}'s feed" },
  taskListOf: { zh_cn: '{name} 的飞书任务', en_us: "{name}'s Feishu Task list" },
  completeTask: { zh_cn: '在飞书任务中完成 {task}', en_us: 'Complete {task} in Feishu Task' },
  reopenTask: { zh_cn: '在飞书任务中重新打开 {task}', en_us: 'Reopen {task} in Feishu Task' },
  feedCards: { zh_cn: '应用消息流卡片', en_us: 'App feed cards' },
  noFeedCards: { zh_cn: '没有消息流卡片', en_us: 'No feed cards' },
} as const satisfies Record<string, Record<Lang, string>>;

/** A page label in `lang`, with `{name}` placeholders filled. */
export function pageText(key: keyof typeof PAGE_TEXT, lang: Lang, values: Record<string, string | number> = {}): string {
  return PAGE_TEXT[key][lang].replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ''));
}

const STORED_LANG = 'playground.lang';

/** The language chosen on an earlier visit, else the browser's. */
export function initialLang(): Lang {
  const stored = globalThis.localStorage?.getItem(STORED_LANG);
  if (stored === 'zh_cn' || stored === 'en_us') return stored;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh_cn' : 'en_us';
}

/** Remembers the switch's choice across reloads. */
export function rememberLang(lang: Lang): void {
  globalThis.localStorage?.setItem(STORED_LANG, lang);
}
