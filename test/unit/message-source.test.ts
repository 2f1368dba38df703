import { describe, expect, it } from 'vitest';
import { readSource } from '../../src/bot/message-source';
import type { Services } from '../../src/bot/services';
import type { ChatMessage } from '../../src/feishu/client';
import { FeishuApiError, FeishuNetworkError } from '../../src/feishu/errors';

/** What `readSource` makes of each answer `GET /open-apis/im/v1/messages/:id` can give. */

const services = (answer: () => Promise<ChatMessage>) => ({ feishu: { readMessage: answer } }) as unknown as Services;
const read = (answer: () => Promise<ChatMessage>) => readSource(services(answer), { messageId: 'om_src', chatId: 'oc_1' });
const message = (patch: Partial<ChatMessage>): ChatMessage => ({
  messageId: 'om_src',
  chatId: 'oc_1',
  msgType: 'text',
  content: JSON.stringify({ text: 'Ship it' }),
  senderId: 'ou_b',
  senderType: 'user',
  deleted: false,
  mentions: [],
  ...patch,
});
const refusal = (code: number) => async () => {
  throw new FeishuApiError('im.v1.message.get', code, 'refused', 400);
};

describe('readSource', () => {
  it('reads a text message, its mentions as names, and who sent it', async () => {
    const answer = message({
      content: JSON.stringify({ text: '@_user_1 please   renew @_all' }),
      mentions: [{ key: '@_user_1', id: 'ou_a', name: 'Alice' }],
      senderName: 'Bob',
    });
    expect(await read(async () => answer)).toEqual({
      ok: true,
      source: { messageId: 'om_src', senderId: 'ou_b', senderType: 'user', senderName: 'Bob' },
      text: '@Alice please renew @all',
    });
  });

  it('reads rich text, and a bot as an app sender', async () => {
    const post = {
      title: '',
      content: [
        [
          { tag: 'text', text: 'Deploy ' },
          { tag: 'a', text: 'failed', href: 'https://x' },
        ],
      ],
    };
    const result = await read(async () => message({ msgType: 'post', content: JSON.stringify(post), senderId: 'cli_x', senderType: 'app' }));
    expect(result).toMatchObject({ ok: true, text: 'Deploy failed', source: { senderType: 'app' } });
  });

  it('reads a rich-text message’s title and code blocks too, as the words of the message (a command ignores both)', async () => {
    const post = {
      title: 'Q3 review',
      content: [[{ tag: 'img', image_key: 'img_1' }], [{ tag: 'code_block', language: 'SHELL', text: 'npm run deploy' }]],
    };
    const result = await read(async () => message({ msgType: 'post', content: JSON.stringify(post) }));
    expect(result).toMatchObject({ ok: true, text: 'Q3 review\nnpm run deploy' });
    const wrapped = { zh_cn: { title: '周报', content: [[{ tag: 'img', image_key: 'img_1' }]] } };
    expect(await read(async () => message({ msgType: 'post', content: JSON.stringify(wrapped) }))).toMatchObject({ ok: true, text: '周报' });
  });

  it('cuts the words at the to-do limit, counting characters as people see them', async () => {
    const result = await read(async () => message({ content: JSON.stringify({ text: '😀'.repeat(600) }) }));
    expect(result.ok && [...result.text].length).toBe(500);
  });

  it('tells apart each reason it cannot read one', async () => {
    expect(await read(refusal(230011))).toEqual({ ok: false, reason: 'source.recalled' });
    expect(await read(refusal(230110))).toEqual({ ok: false, reason: 'source.recalled' });
    expect(await read(async () => message({ deleted: true }))).toEqual({ ok: false, reason: 'source.recalled' });
    expect(await read(refusal(99991672))).toEqual({ ok: false, reason: 'source.noScope' });
    expect(await read(refusal(230002))).toEqual({ ok: false, reason: 'source.otherChat' });
    expect(await read(refusal(232010))).toEqual({ ok: false, reason: 'source.otherTenant' });
    expect(await read(async () => message({ chatId: 'oc_other' }))).toEqual({ ok: false, reason: 'source.otherChat' });
    expect(await read(async () => message({ msgType: 'image', content: '{"image_key":"img_1"}' }))).toEqual({ ok: false, reason: 'source.notText' });
    expect(await read(async () => message({ content: '{"text":"   "}' }))).toEqual({ ok: false, reason: 'source.notText' });
    expect(await read(refusal(230001))).toEqual({ ok: false, reason: 'source.unreadable' });
  });

  it('leaves a failure a retry can cure to the job, which retries', async () => {
    await expect(
      read(async () => {
        throw new FeishuNetworkError('im.v1.message.get', 'ECONNRESET');
      }),
    ).rejects.toBeInstanceOf(FeishuNetworkError);
  });
});
