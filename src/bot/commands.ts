/**
 * What a chat message asks of the bot. Pure: text and mentions in, a request out. Mention keys (`@_user_1`, and
 * `@_all` for everyone) are stripped wherever they stand, so `@Bot /todo x`, `/todo x`, `/todo @_user_2 x` and
 * `@_all @Bot /todo x` read alike.
 */

export type ParsedMessage =
  | { kind: 'command'; name: string; args: string }
  /** Only mentions, no words: someone called the bot by name. */
  | { kind: 'mention-only' }
  /** Words that are not a command. */
  | { kind: 'chatter'; text: string };

const MENTION_KEY = /@_(?:user_\d+|all)(?![A-Za-z0-9_])/g;
const COMMAND = /^\/([A-Za-z][\w-]*)(?:@\S+)?(?:\s+([\s\S]*))?$/;

export function parseMessage(text: string): ParsedMessage {
  const stripped = text.replace(MENTION_KEY, ' ').replace(/\s+/g, ' ').trim();
  if (stripped === '') return { kind: 'mention-only' };
  const match = COMMAND.exec(stripped);
  if (!match) return { kind: 'chatter', text: stripped };
  return { kind: 'command', name: (match[1] as string).toLowerCase(), args: (match[2] ?? '').trim() };
}
