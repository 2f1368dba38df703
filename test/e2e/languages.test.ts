import { afterEach, describe, expect, it } from 'vitest';
import { t } from '../../src/i18n';
import {
  type Harness,
  type HarnessOptions,
  buttonValue,
  ephemeralCards,
  formCards,
  formValues,
  groupCards,
  noticesTo,
  pickerValueInHours,
  postTodo,
  startHarness,
  submitForm,
} from './harness';

/**
 * The whole flow in Chinese and in English, over real HTTP: the command's words choose the language of the private
 * form and notices (over BOT_LANGUAGE), a time in the text prefills the reminder in the person's zone, and the
 * group card, its feed cards and every toast carry both languages.
 */

/** Monday 30 November 2026, 10:00 in Shanghai (21:00 on Sunday in New York). */
const NOW = Date.parse('2026-11-30T10:00:00+08:00');

let h: Harness;
afterEach(async () => {
  await h.stop();
});

async function start(env: Record<string, string> = {}, options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness({
    env,
    app: { now: () => NOW },
    emulator: {
      chats: [
        {
          chatId: 'oc_group',
          chatType: 'group',
          ownerId: 'ou_owner',
          managerIds: ['ou_admin', 'ou_ann'],
          memberIds: ['ou_owner', 'ou_admin', 'ou_ann', 'ou_member', 'ou_alice'],
        },
      ],
      timeZones: { ou_ann: 'America/New_York' },
    },
    ...options,
  });
  return h;
}

interface Text {
  tag: string;
  content?: string;
  i18n_content?: Record<string, string>;
}
const inputOf = (card: any) => card.body.elements.find((e: Text) => e.tag === 'form').elements.find((e: Text) => e.tag === 'input');
const pickerOf = (card: any) => card.body.elements.find((e: Text) => e.tag === 'form').elements.find((e: Text) => e.tag === 'picker_datetime');
const lastNotice = (user: string) => JSON.parse(noticesTo(h, user).at(-1) ?? '{}');
const noticeText = (card: any) => card.body?.elements?.[0]?.text?.content as string;

describe('a Chinese admin', () => {
  it('/待办 明天下午3点 提交周报 → a Chinese form prefilled in their zone → Submit, Done and /撤回, each answered in Chinese', async () => {
    await start();
    await h.say('ou_admin', '/待办 明天下午3点 提交周报');
    await h.settled();
    const [form] = formCards(h, 'ou_admin');
    expect(form?.card.header.title).toEqual({ tag: 'plain_text', content: '新建待办' });
    expect(inputOf(form?.card).default_value).toBe('提交周报');
    expect(pickerOf(form?.card).initial_datetime).toBe('2026-12-01 15:00');
    // The card says in which zone the prefilled time is meant: the profile's (the emulator's default, Shanghai).
    expect(JSON.stringify(form?.card)).toContain('已根据你的文字预填提醒时间：12月1日 周二 15:00（Asia/Shanghai）。这个时间按 Asia/Shanghai 时区理解');

    const submitted = await submitForm(
      h,
      'ou_admin',
      { messageId: form!.messageId, card: form!.card },
      {
        ...formValues({ text: '提交周报', remindAt: '2026-12-01 15:00 +0800', assignees: ['ou_alice'] }),
      },
    );
    expect(submitted.body.toast).toEqual({
      type: 'success',
      content: '正在把你的待办发到群里……',
      i18n: { zh_cn: '正在把你的待办发到群里……', en_us: 'Posting your to-do to the group…' },
    });
    await h.settled();

    // The group card: Chinese by default, both languages for every reader.
    const [posted] = groupCards(h);
    const card = posted?.card;
    expect(card.header.title).toEqual({ tag: 'plain_text', content: '待办', i18n_content: { zh_cn: '待办', en_us: 'To-do' } });
    expect(card.config.summary).toEqual({ content: '待办：提交周报', i18n_content: { zh_cn: '待办：提交周报', en_us: 'To-do: 提交周报' } });
    const details = card.body.elements.find((e: Text) => e.tag === 'markdown') as Text;
    expect(details.content).toMatch(/\*\*下次提醒\*\*：<local_datetime[^\n]* \/ 12月1日 周二 15&#58;00（Asia\/Shanghai）/);
    expect(details.i18n_content?.en_us).toMatch(/\*\*Next reminder:\*\* <local_datetime[^\n]* \/ Tue 1 Dec, 15&#58;00 &#40;Asia\/Shanghai&#41;/);
    expect([...h.emu.feedCards.values()].map((f) => (f.appFeedCard as { title: string }).title)).toEqual(['你有一项待办']);

    const done = await h.click('ou_alice', posted!.messageId, buttonValue(card, 'todo.done'));
    expect(done.body.toast).toEqual({ type: 'success', content: '已标记完成。', i18n: { zh_cn: '已标记完成。', en_us: 'Marked done.' } });
    expect(done.body.card.data.header.i18n_text_tag_list.zh_cn[0].text.content).toBe('已完成');
    await h.settled();

    await h.say('ou_admin', '/撤回');
    await h.settled();
    expect(noticeText(lastNotice('ou_admin'))).toBe('已撤回待办“提交周报”。');
    expect(h.emu.messages.get(posted!.messageId)?.recalled).toBe(true);
  });

  it('gets the help in Chinese, Chinese names first, and an unknown command explained in Chinese', async () => {
    await start();
    await h.say('ou_member', '/帮助');
    await h.say('ou_member', '/你好');
    await h.settled();
    const [help, unknown] = ephemeralCards(h).filter((m) => m.visibleTo === 'ou_member');
    expect(help?.card.header.title.content).toBe('待办机器人命令');
    const lines = (help?.card.body.elements[0] as Text | undefined)?.content?.split('\n') ?? [];
    expect(lines.map((line) => line.slice(0, line.indexOf('**', 2) + 2))).toEqual([
      '**/待办 &#91;内容&#93;**',
      '**/待办列表 &#91;我的|逾期|@某人&#93;**',
      '**/撤回**',
      '**/帮助**',
      '**/语言 &#91;中文|英文&#93;**',
      '**/设置**',
    ]);
    expect(lines[0]).toContain('或 /todo');
    expect(noticeText(unknown?.card)).toBe('我不认识 /你好。发送 /帮助 看看我能做什么。');
  });

  it('an ambiguous or past time prefills nothing, and the text stays whole', async () => {
    await start();
    await h.say('ou_admin', '/待办 3点开会');
    await h.settled();
    await h.say('ou_admin', '/待办 今天上午8点 站会');
    await h.settled();
    const [ambiguous, past] = formCards(h, 'ou_admin');
    expect(inputOf(ambiguous?.card).default_value).toBe('3点开会');
    expect(pickerOf(ambiguous?.card)).not.toHaveProperty('initial_datetime');
    expect(inputOf(past?.card).default_value).toBe('今天上午8点 站会');
    expect(pickerOf(past?.card)).not.toHaveProperty('initial_datetime');
  });

  it('a /todo Feishu delivers late (the bot was down) names its times from when it was sent', async () => {
    await start();
    const sent = (minutesAgo: number) => NOW - minutesAgo * 60_000;
    // Sent at 09:00 and 08:00; the bot reads them at 10:00.
    await h.say('ou_admin', '/todo call the supplier back in 2 hours', { sentAt: sent(60) });
    await h.settled();
    await h.say('ou_admin', '/todo standup at 9:30am', { sentAt: sent(120) });
    await h.settled();
    const [inTwoHours, passed] = formCards(h, 'ou_admin');
    expect(pickerOf(inTwoHours?.card).initial_datetime).toBe('2026-11-30 11:00');
    expect(inputOf(inTwoHours?.card).default_value).toBe('call the supplier back');
    // 09:30 had passed when it arrived: nothing prefilled, rather than 09:30 tomorrow.
    expect(pickerOf(passed?.card)).not.toHaveProperty('initial_datetime');
    expect(inputOf(passed?.card).default_value).toBe('standup at 9:30am');
  });
});

describe('/todos', () => {
  it('shows every line in the asker’s own zone', async () => {
    await start();
    await postTodo(h, { owner: 'ou_admin', text: 'call the vendor', remindAt: pickerValueInHours(3, NOW), timezone: 'Asia/Shanghai' });
    await h.say('ou_ann', '/todos');
    await h.settled();
    // 13:00 in Shanghai is midnight in New York, where ou_ann's profile says she is.
    expect(noticesTo(h, 'ou_ann').at(-1)).toMatch(/call the vendor.*Mon 30 Nov, 00:00 \(America\/New_York\)/);
    await h.say('ou_member', '/todos');
    await h.settled();
    expect(noticesTo(h, 'ou_member').at(-1)).toMatch(/call the vendor.*Mon 30 Nov, 13:00 \(Asia\/Shanghai\)/);
  });
});

describe('an English admin', () => {
  it('/todo submit the report tomorrow 3pm → an English form in their profile zone → Submit, Done and /recall in English', async () => {
    // A Feishu tenant (Chinese by default) whose group works in English: an admin says so once.
    await start({ BOT_LANGUAGE: 'zh_cn' });
    await h.say('ou_ann', '/recall');
    await h.settled();
    expect(noticeText(lastNotice('ou_ann'))).toBe('本群没有你可以撤回的待办卡片。');
    await h.say('ou_ann', '/lang en');
    await h.settled();
    expect(noticeText(lastNotice('ou_ann'))).toBe(t('en_us', 'lang.set'));

    await h.say('ou_ann', '/todo submit the report tomorrow 3pm');
    await h.settled();
    const [form] = formCards(h, 'ou_ann');
    expect(form?.card.header.title).toEqual({ tag: 'plain_text', content: 'New to-do' });
    expect(inputOf(form?.card).default_value).toBe('submit the report');
    // Tomorrow is Monday in New York, where it is still Sunday evening.
    expect(pickerOf(form?.card).initial_datetime).toBe('2026-11-30 15:00');
    expect(JSON.stringify(form?.card)).toContain(
      'Reminder prefilled from your text: Mon 30 Nov, 15:00 (America/New_York). The time is meant in America/New_York',
    );

    const submitted = await submitForm(
      h,
      'ou_ann',
      { messageId: form!.messageId, card: form!.card },
      formValues({ text: 'submit the report', remindAt: '2026-11-30 15:00 -0500' }),
    );
    expect(submitted.body.toast).toMatchObject({ type: 'success', content: 'Posting your to-do to the group…', i18n: { zh_cn: '正在把你的待办发到群里……' } });
    await h.settled();

    const [posted] = groupCards(h);
    expect(posted?.card.header.title).toEqual({ tag: 'plain_text', content: 'To-do', i18n_content: { zh_cn: '待办', en_us: 'To-do' } });
    const details = posted?.card.body.elements.find((e: Text) => e.tag === 'markdown') as Text;
    expect(details.content).toMatch(/\*\*Next reminder:\*\* <local_datetime[^\n]* \/ Mon 30 Nov, 15&#58;00 &#40;America\/New&#95;York&#41;/);
    expect(details.i18n_content?.zh_cn).toMatch(/\*\*下次提醒\*\*：<local_datetime[^\n]* \/ 11月30日 周一 15&#58;00（America\/New&#95;York）/);

    const done = await h.click('ou_ann', posted!.messageId, buttonValue(posted?.card, 'todo.done'));
    expect(done.body.toast).toEqual({ type: 'success', content: 'Marked done.', i18n: { zh_cn: '已标记完成。', en_us: 'Marked done.' } });
    await h.settled();

    await h.say('ou_ann', '/recall', { parentId: posted!.messageId });
    await h.settled();
    expect(noticeText(lastNotice('ou_ann'))).toBe('Recalled the to-do “submit the report”.');
  });
});

describe('/lang', () => {
  it('an admin sets the chat’s language: commands whose words do not tell are then answered in it', async () => {
    await start({ BOT_LANGUAGE: 'en_us' });
    await h.say('ou_member', '/todos');
    await h.settled();
    expect(lastNotice('ou_member').header.title.content).toBe('Open to-dos in this chat');

    await h.say('ou_admin', '/语言 中文');
    await h.settled();
    expect(noticeText(lastNotice('ou_admin'))).toBe(t('zh_cn', 'lang.set'));
    expect((await h.app.services.store.chat('oc_group'))?.language).toBe('zh_cn');

    await h.say('ou_member', '/todos');
    await h.say('ou_member', '/help');
    await h.settled();
    const [list, help] = noticesTo(h, 'ou_member')
      .slice(-2)
      .map((card) => JSON.parse(card));
    expect(list.header.title.content).toBe('本群未完成的待办');
    expect(help.header.title.content).toBe('待办机器人命令');
    // English words still get English, whatever the chat's setting.
    await h.say('ou_member', '/todos mine');
    await h.settled();
    expect(lastNotice('ou_member').header.title.content).toBe('Your open to-dos');

    await h.say('ou_owner', '/lang');
    await h.settled();
    expect(noticeText(lastNotice('ou_owner'))).toBe(t('zh_cn', 'lang.current', { language: '中文' }));
  });

  it('is refused for a plain member, in the language of their command, and changes nothing', async () => {
    await start();
    await h.say('ou_member', '/lang zh');
    await h.settled();
    expect(noticeText(lastNotice('ou_member'))).toBe('Only the group owner and group admins can change my language in this group.');
    await h.say('ou_member', '/语言 英文');
    await h.settled();
    expect(noticeText(lastNotice('ou_member'))).toBe('在本群只有群主和群管理员可以设置我的语言。');
    expect(await h.app.services.store.chat('oc_group')).toBeUndefined();
  });
});

describe('notices from jobs', () => {
  it('a post Feishu refuses is explained in the language of the command that opened the form', async () => {
    await start({ BOT_LANGUAGE: 'en_us' });
    await h.say('ou_admin', '/待办 提交周报');
    await h.settled();
    const [form] = formCards(h, 'ou_admin');
    h.emu.fault({ method: 'POST', path: '/open-apis/im/v1/messages', code: 230002, times: 10 });
    await submitForm(h, 'ou_admin', { messageId: form!.messageId, card: form!.card }, formValues({ text: '提交周报' }));
    await h.settled();
    expect(noticeText(lastNotice('ou_admin'))).toBe(
      `我没能把你的待办发到群里：${t('zh_cn', 'feishuError.notInChat')}你的待办已保存，在表单上点“提交”即可重试。`,
    );
  });
});
