import { describe, expect, it } from 'vitest';
import { POST_ELEMENT_LIMIT, readMessageText } from '../../src/feishu/message-content';

const post = (paragraphs: unknown[][]) => JSON.stringify({ title: '', content: paragraphs });
const at = (userId: string, userName = userId) => ({ tag: 'at', user_id: userId, user_name: userName });

describe('reading a rich-text post', () => {
  it('gives an id that is not a placeholder a key of its own, after the highest in use, and the same key each time', () => {
    const given = [
      { key: '@_user_1', openId: 'ou_bot', name: 'Bot' },
      { key: '@_user_4', openId: 'ou_ann', name: 'Ann' },
    ];
    const read = readMessageText(
      'post',
      post([[at('@_user_1'), { tag: 'text', text: ' /todo x ' }, at('ou_bob', 'Bob'), at('ou_ann'), at('ou_bob'), at('u_carl', 'Carl')], [at('all')]]),
      given,
    );
    expect(read?.text).toBe('@_user_1 /todo x @_user_5@_user_4@_user_5@_user_6\n@_all');
    expect(read?.mentions).toEqual([...given, { key: '@_user_5', openId: 'ou_bob', name: 'Bob' }, { key: '@_user_6', name: 'Carl' }]);
  });

  it(`reads at most ${POST_ELEMENT_LIMIT} elements, so a post of 15,000 unknown ids makes no more mentions than that (issue 23, item 3)`, () => {
    // Each unknown id cost a search of the mentions so far and a Math.max over them: 15,000 blocked the bot for 20 s.
    const ids = Array.from({ length: 15_000 }, (_, i) => at(`ou_${i.toString(16).padStart(32, '0')}`));
    const started = performance.now();
    const read = readMessageText('post', post([[{ tag: 'text', text: '/todo x ' }, ...ids.slice(0, 7_500)], ids.slice(7_500)]), []);
    const ms = performance.now() - started;
    expect(read?.mentions.length).toBe(POST_ELEMENT_LIMIT - 1);
    expect(read?.text.startsWith('/todo x @_user_1@_user_2')).toBe(true);
    expect(read?.text.split('\n')).toHaveLength(1);
    console.log(`FIGURE: a post of 15,000 unknown mention ids read in ${ms.toFixed(1)} ms (${POST_ELEMENT_LIMIT} elements kept)`);
  });

  it('reads a whole post that is within the limit, across paragraphs', () => {
    const lines = Array.from({ length: 10 }, (_, i) => [{ tag: 'text', text: `line ${i}` }]);
    expect(readMessageText('post', post(lines), [])?.text.split('\n')).toHaveLength(10);
  });
});
