import { CARD_SIZE_LIMIT, cardSize, validateCard } from '../card-rules';
import { Code, badParam, refuse } from '../errors';

const TEXT_SIZE_LIMIT = 150 * 1024;

/** Size first, as Feishu measures before it parses the card's components. */
export function acceptCard(card: unknown, bytes = cardSize(card)): void {
  if (bytes > CARD_SIZE_LIMIT) {
    throw refuse(Code.cardTooLarge, `The card is ${bytes} bytes; the limit is ${CARD_SIZE_LIMIT} bytes (30 KB).`);
  }
  const reason = validateCard(card);
  if (reason) throw refuse(Code.cardRejected, `card content rejected: ${reason}`);
}

/** `content` of a message is a JSON string; returns it parsed, after the checks its msg_type calls for. */
export function parseContent(msgType: 'text' | 'interactive', content: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw badParam('content: not valid JSON');
  }
  // The limit is on the request body, where `content` is a JSON string: its quotes and backslashes escaped.
  const bytes = Buffer.byteLength(JSON.stringify(content), 'utf8');
  if (msgType === 'interactive') {
    acceptCard(parsed, bytes);
    return parsed;
  }
  if (typeof (parsed as { text?: unknown } | null)?.text !== 'string') {
    throw badParam('content: a text message needs {"text": "<string>"}');
  }
  if (bytes > TEXT_SIZE_LIMIT) throw refuse(Code.cardTooLarge, `The text is ${bytes} bytes; the limit is 150 KB.`);
  return parsed;
}
