import { describe, expect, it } from 'vitest';
import { cardActionEvent, encryptPayload, messageEvent } from '../../emulator';
import { SIGNED_BODY_LIMIT_BYTES } from '../../src/feishu/verify';

/**
 * The default limit on a signed body is sized from Feishu's largest real pushes, encrypted as Feishu sends them
 * (issue 23, item 2): a text message at the 150 KB Feishu allows a message's text, rich text at its 30 KB, and a form
 * submitted with far more people picked than the bot accepts (it must still arrive, to be refused with a toast).
 */

const KB = 1024;
const pushBytes = (payload: object) => Buffer.byteLength(JSON.stringify({ encrypt: encryptPayload(JSON.stringify(payload), 'encrypt-key') }));
const bot = [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }];

/** `unit` repeated while the message's `content` stays within `limit` bytes. */
function filled(limit: number, unit: string, content: (text: string) => string): string {
  let text = '';
  while (Buffer.byteLength(content(text + unit)) <= limit) text += unit;
  return text;
}

const textMessage = (unit: string) => {
  const text = filled(150 * KB, unit, (t) => JSON.stringify({ text: t }));
  return messageEvent({ token: 't', senderId: 'ou_sender', text });
};
const richText = () => {
  const content = (t: string) =>
    (
      messageEvent({ token: 't', senderId: 'ou_sender', text: t, format: 'post', style: ['bold'], mentions: bot }) as {
        event: { message: { content: string } };
      }
    ).event.message.content;
  const text = filled(30 * KB, '@_user_1 明天 9 点前交周报 https://example.com/report\n', content);
  return messageEvent({ token: 't', senderId: 'ou_sender', text, format: 'post', style: ['bold'], mentions: bot });
};
const fullForm = () =>
  cardActionEvent({
    token: 't',
    operatorId: 'ou_sender',
    messageId: `om_${'0'.repeat(32)}`,
    name: 'submit_0123456789ab',
    value: { action: 'todo.submit', formId: '0'.repeat(36) },
    formValue: {
      todo_text: '待'.repeat(500),
      remind_at: '2026-12-07 09:00 +0800',
      repeat: 'weekdays',
      assignees: Array.from({ length: 500 }, (_, i) => `ou_${i.toString(16).padStart(32, '0')}`),
    },
    timezone: 'Asia/Shanghai',
  });

describe('the default signed-body limit', () => {
  it('holds Feishu’s largest real pushes with a margin of two to three times', () => {
    const sizes = {
      'text at 150 KB, CJK': pushBytes(textMessage('待办事项明天开会')),
      'text at 150 KB, ASCII with quotes and line breaks': pushBytes(textMessage('Say "hi" to\nthe team. ')),
      'rich text at 30 KB': pushBytes(richText()),
      'a form with 500 people picked': pushBytes(fullForm()),
    };
    console.log(
      `FIGURE: encrypted push sizes: ${Object.entries(sizes)
        .map(([what, bytes]) => `${what} ${Math.round(bytes / KB)} KiB`)
        .join('; ')}; limit ${SIGNED_BODY_LIMIT_BYTES / KB} KiB`,
    );
    const largest = Math.max(...Object.values(sizes));
    expect(SIGNED_BODY_LIMIT_BYTES).toBeGreaterThanOrEqual(2 * largest);
    // Not a round megabyte: every byte of the limit is a byte an unproven body may make the bot hold.
    expect(SIGNED_BODY_LIMIT_BYTES).toBeLessThanOrEqual(3 * largest);
  });
});
