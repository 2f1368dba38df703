/** Whether `feishuDomain` is Lark's (open.larksuite.com, the world outside China) rather than Feishu's. */
export function isLarkDomain(feishuDomain: string): boolean {
  return /(^|\.)larksuite\.com$/i.test(new URL(feishuDomain).hostname);
}

/**
 * Opens the group chat in the client: where a to-do's feed card and its Feishu Task lead back to. Lark's clients
 * open Lark's AppLink host, Feishu's (and the emulator's) Feishu's.
 */
export function chatLink(chatId: string, feishuDomain: string): string {
  const host = isLarkDomain(feishuDomain) ? 'applink.larksuite.com' : 'applink.feishu.cn';
  return `https://${host}/client/chat/open?openChatId=${encodeURIComponent(chatId)}`;
}
