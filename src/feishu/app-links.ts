/** Opens the group chat in the Feishu client: where a to-do's feed card and its Feishu Task lead back to. */
export function chatLink(chatId: string): string {
  return `https://applink.feishu.cn/client/chat/open?openChatId=${encodeURIComponent(chatId)}`;
}
