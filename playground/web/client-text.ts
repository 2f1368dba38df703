import type { Lang } from './card/i18n';

/**
 * Sentences that Feishu's own client shows (not the bot), in the reader's language. The Chinese ones are Feishu's;
 * the English ones are this page's rendering of them.
 */
export const CLIENT_TEXT = {
  requiredFieldsEmpty: { zh_cn: '有必填项未填写', en_us: 'Please fill in the required fields' },
  onlyVisibleToYou: { zh_cn: '仅对你可见', en_us: 'Only visible to you' },
  recalled: { zh_cn: '撤回了一条消息', en_us: 'recalled a message' },
  recalledQuote: { zh_cn: '该消息已撤回', en_us: 'This message was recalled' },
  card: { zh_cn: '卡片', en_us: 'Card' },
} as const satisfies Record<string, Record<Lang, string>>;

export const clientText = (key: keyof typeof CLIENT_TEXT, lang: Lang): string => CLIENT_TEXT[key][lang];
