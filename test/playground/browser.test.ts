import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, CHROMIUM_PATH, chromiumInstalled, launchChromium } from '../../playground/browser';
import { type Playground, startPlayground } from '../../playground/server/playground';

/**
 * The playground in a real browser (Debian's Chromium through playwright-core): a person's whole day with the bot,
 * driven by accessible names only, as a person would find the controls. The bot is the real bot; the page reaches it
 * only through the emulator's signed, encrypted pushes.
 */

const SKIPPED = `Browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium); REQUIRE_BROWSER=1 makes this a failure.`;

if (!chromiumInstalled()) {
  it('runs the browser tests wherever Chromium is installed', () => {
    console.log(SKIPPED);
    expect(process.env.REQUIRE_BROWSER, SKIPPED).not.toBe('1');
  });
} else {
  describe('the playground in Chromium', () => {
    let playground: Playground;
    let browser: Browser;
    let page: Page;
    const callbacks: string[] = [];

    beforeAll(async () => {
      // A fixed start, so that what the clock's moves cross (a digest time, quiet hours) is the same at any hour the
      // tests run: Monday 7 December 2026, 08:30 in Shanghai.
      playground = await startPlayground({ startAt: Date.UTC(2026, 11, 7, 0, 30) });
      browser = await launchChromium();
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      // The page's timers run in real time, but a test can move them on instead of waiting for a toast to go.
      await page.clock.install();
      page.on('request', (request) => {
        if (request.url().endsWith('/api/actions')) callbacks.push(request.postData() ?? '');
      });
      await page.goto(playground.url);
      await page.getByRole('combobox', { name: 'Language' }).selectOption('en_us');
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await playground?.stop();
    });

    const ADMIN = 'Alex Chen';
    const MEMBER = 'Chris Wang';
    const ASSIGNEE = 'Bea Li';

    async function actAs(name: string) {
      await page.getByRole('radio', { name: new RegExp(name) }).check();
      // The header names the person whose view the server sent, so what follows is that person's view.
      await page.getByText(`Viewing as ${name}`).waitFor();
    }

    async function say(text: string) {
      await page.getByRole('textbox', { name: 'Message' }).fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
    }

    /** Waits for the page's toast saying `text`, the answer the bot gave the last click. */
    const toastShown = (text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();
    const article = (name: string) => page.getByRole('article', { name, exact: true });
    const messageWith = (text: string) => page.locator('.message').filter({ hasText: text });

    /** A picker value `hours` after the playground's clock, as the admin's Shanghai client shows it. */
    const pickerValueIn = (hours: number) => new Date(playground.clock.now() + (hours + 8) * 3_600_000).toISOString().slice(0, 16);

    it('takes a to-do from /todo to recall, and refuses a plain member', async () => {
      await actAs(ADMIN);
      await say('@To-do Bot /todo Ship the release notes');
      const form = article('New to-do');
      await form.waitFor();
      await messageWith('New to-do').getByText('Only visible to you').waitFor();

      // The form is the admin's alone: a member sees the command, not the form.
      await actAs(ASSIGNEE);
      await messageWith('/todo Ship the release notes').waitFor();
      expect(await article('New to-do').count()).toBe(0);
      await actAs(ADMIN);

      // The client checks no field (its check would stop Cancel too): a blank Submit reaches the bot, which refuses
      // it with a red toast naming the field, and the form stays open; so do spaces.
      const text = form.getByRole('textbox', { name: 'What needs doing' });
      for (const [blank, sent] of [
        ['', 1],
        ['   ', 2],
      ] as const) {
        await text.fill(blank);
        await form.getByRole('button', { name: 'Submit' }).click();
        await page.getByRole('alert').filter({ hasText: 'Please write what needs doing.' }).waitFor();
        expect(callbacks).toHaveLength(sent);
        // Gone (its timer run at once, the page's clock moved past any toast's seconds), so the next toast is a new one.
        await page.clock.fastForward('00:10');
        await page.locator('.toast').waitFor({ state: 'detached' });
      }
      expect(await form.count()).toBe(1);

      await text.fill('Ship the release notes');
      const remindAt = pickerValueIn(2);
      await form.getByLabel('Remind at (optional)').fill(remindAt);
      await form.getByRole('group', { name: 'Assignees (optional)' }).getByRole('checkbox', { name: ASSIGNEE }).check();
      await form.getByRole('button', { name: 'Submit' }).click();
      await toastShown(/Posting your to-do/);
      const submitted = JSON.parse(callbacks.at(-1) ?? '{}');
      expect(submitted.click.formValue).toEqual({
        todo_text: 'Ship the release notes',
        remind_at: `${remindAt.replace('T', ' ')} +0800`,
        repeat: 'none',
        assignees: ['ou_bea'],
      });

      // The final card reaches the group and the form is gone; the assignee gets a feed card.
      const todo = article('To-do');
      await todo.locator('.text-tag').filter({ hasText: 'Open' }).waitFor();
      await todo.getByText(`@${ASSIGNEE}`).waitFor();
      await article('New to-do').waitFor({ state: 'detached' });
      await page
        .getByRole('complementary', { name: 'App feed cards' })
        .getByRole('region', { name: `${ASSIGNEE}'s feed` })
        .getByText('To-do for you')
        .waitFor();

      // Moving the clock past the reminder: the bot replies to the to-do card, quoting it.
      await page.getByRole('button', { name: '+1 day' }).click();
      // The reminder's message, not the to-do card's, whose "Next reminder" line the words would also find.
      const reminder = page.locator('.message').filter({ has: article('Reminder') });
      await reminder.locator('.quote').filter({ hasText: 'To-do: Ship the release notes' }).waitFor();
      await reminder.getByText(`@${ASSIGNEE}`).waitFor();

      // A plain member who is neither creator nor assignee may not press Done, nor open a form.
      await actAs(MEMBER);
      await article('To-do').getByRole('button', { name: 'Done' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: /Only the assignees, the creator and group admins/ })
        .waitFor();
      await say('/todo Order pizza');
      await page.getByRole('article').filter({ hasText: 'Only the group owner and group admins can create to-dos here.' }).waitFor();
      expect(await article('New to-do').count()).toBe(0);

      // Done changes the same card in place, for everyone.
      await actAs(ADMIN);
      expect(await page.getByText('Only the group owner and group admins').count()).toBe(0);
      await todo.getByRole('button', { name: 'Done' }).click();
      await toastShown('Marked done.');
      await todo.locator('.text-tag').filter({ hasText: 'Done' }).waitFor();
      await todo.getByRole('button', { name: 'Reopen' }).waitFor();
      expect(await article('To-do').count()).toBe(1);

      // /recall withdraws the card: the chat shows it as recalled, and the admin is told.
      await say('/recall');
      await page.getByText('To-do Bot recalled a message').waitFor();
      await page.getByText(/Recalled the to-do/).waitFor();
      expect(await article('To-do').count()).toBe(0);
    }, 120_000);

    const chatChoice = (name: RegExp) => page.getByRole('radio', { name });

    it('works a topic group: /todo in a topic, the form in the direct chat with the bot, the card in the topic', async () => {
      await actAs(ADMIN);
      await chatChoice(/^Release topics/).check();
      await page.getByRole('main', { name: 'Release topics' }).waitFor();
      await page.getByRole('textbox', { name: 'Message' }).fill('/todo Renew the domain');
      expect(await page.getByRole('textbox', { name: 'Message' }).getAttribute('placeholder')).toBe('New topic in Release topics');
      await page.getByRole('button', { name: 'Send' }).click();
      const topic = page.getByRole('region', { name: 'Topic: /todo Renew the domain' });
      await topic.waitFor();

      // A topic group has no ephemeral cards: the form arrives as a direct message, which the chat list marks as new.
      await chatChoice(/^To-do Bot.*1 new/).waitFor();
      expect(await article('New to-do').count()).toBe(0);
      await chatChoice(/^To-do Bot/).check();
      await page.getByRole('main', { name: 'To-do Bot' }).waitFor();
      const form = article('New to-do');
      await form.waitFor();
      expect(await form.getByRole('textbox', { name: 'What needs doing' }).inputValue()).toBe('Renew the domain');
      // The person picker lists the group's members, though the direct chat holds only the admin and the bot.
      await form.getByRole('group', { name: 'Assignees (optional)' }).getByRole('checkbox', { name: ASSIGNEE }).check();
      await form.getByRole('button', { name: 'Submit' }).click();
      await toastShown(/Posting your to-do/);

      // The direct-message form is closed in place, with no Submit left.
      const closed = article('To-do form (closed)');
      await closed.getByText('Submitted: the to-do is posted in the group.').waitFor();
      expect(await closed.getByRole('button').count()).toBe(0);

      // The to-do card sits in the command's topic, as a reply to the command.
      await chatChoice(/^Release topics/).check();
      const card = topic.getByRole('article', { name: 'To-do', exact: true });
      await card.locator('.text-tag').filter({ hasText: 'Open' }).waitFor();
      await card.getByText(`@${ASSIGNEE}`).waitFor();
      await topic
        .locator('.message')
        .filter({ has: article('To-do') })
        .locator('.quote')
        .filter({ hasText: '/todo Renew the domain' })
        .waitFor();
      await card.getByRole('button', { name: 'Done' }).click();
      await toastShown('Marked done.');
      await chatChoice(/^Release squad/).check();
      await page.getByRole('main', { name: 'Release squad' }).waitFor();
    }, 120_000);

    it("switches the page's own labels with the language, and remembers the choice across a reload", async () => {
      const language = page.getByRole('combobox', { name: /Language/ });
      await language.selectOption('zh_cn');
      const chinese = async () => {
        await page.getByRole('button', { name: '发送' }).waitFor();
        await page.getByRole('heading', { name: '时钟' }).waitFor();
        await page.getByRole('button', { name: '+1 天' }).waitFor();
        await page.getByRole('complementary', { name: '应用消息流卡片' }).waitFor();
        await page.getByText('4 位成员').waitFor();
        await page.getByText('当前视角：Alex Chen').waitFor();
        expect(await page.locator('.people legend').textContent()).toBe('成员');
        expect(await page.locator('.reply-button').first().textContent()).toBe('回复');
        expect(await page.getByRole('button', { name: 'Send' }).count()).toBe(0);
      };
      await chinese();
      await page.reload();
      expect(await language.inputValue()).toBe('zh_cn');
      await chinese();
      await language.selectOption('en_us');
      await page.getByRole('button', { name: 'Send' }).waitFor();
      await page.reload();
      await page.getByRole('button', { name: 'Send' }).waitFor();
      expect(await page.getByRole('heading', { name: 'Clock' }).count()).toBe(1);
    }, 60_000);

    it('stays usable 800 px wide: nothing scrolls sideways, and a form is cancelled empty and another submitted', async () => {
      await page.setViewportSize({ width: 800, height: 900 });
      await actAs(ADMIN);
      /** No element of these scrolls sideways, nor the page itself. */
      const noSidewaysScroll = async () => {
        const overflowing = await page
          .locator('html, .playground, .controls, .chat, .timeline, .composer, .card')
          .evaluateAll((els) =>
            els.filter((el) => el.scrollWidth > el.clientWidth).map((el) => `${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`),
          );
        expect(overflowing).toEqual([]);
      };
      /** Wholly inside the 800 px viewport, left to right. */
      const inView = async (locator: Locator) => {
        await locator.scrollIntoViewIfNeeded();
        const box = await locator.boundingBox();
        expect(box).not.toBeNull();
        expect(box?.x).toBeGreaterThanOrEqual(0);
        expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(800);
      };
      await noSidewaysScroll();
      await inView(page.getByRole('textbox', { name: 'Message' }));
      await inView(page.getByRole('button', { name: 'Send' }));
      await inView(page.getByRole('button', { name: '+1 hour' }));

      await say('/todo Check the narrow layout');
      const form = article('New to-do');
      await form.waitFor();
      await noSidewaysScroll();
      await inView(form);
      // Submit and Cancel side by side, in one row.
      const submit = form.getByRole('button', { name: 'Submit' });
      const cancel = form.getByRole('button', { name: 'Cancel' });
      const [submitBox, cancelBox] = [await submit.boundingBox(), await cancel.boundingBox()];
      expect(cancelBox?.y).toBe(submitBox?.y);
      expect(cancelBox?.x).toBeGreaterThan((submitBox?.x ?? 0) + (submitBox?.width ?? 0));

      // Cancel works with every field empty: the client's check does not stop it.
      await form.getByRole('textbox', { name: 'What needs doing' }).fill('');
      await cancel.click();
      await toastShown('Cancelled. Nothing was posted.');
      await form.waitFor({ state: 'detached' });

      await say('/todo Check the narrow layout');
      await form.waitFor();
      await submit.click();
      const card = page.getByRole('article', { name: 'To-do', exact: true }).filter({ hasText: 'Check the narrow layout' });
      await card.waitFor();
      await form.waitFor({ state: 'detached' });
      await noSidewaysScroll();
      await inView(card);
      await card.getByRole('button', { name: 'Done' }).click();
      await toastShown('Marked done.');
      await card.locator('.text-tag').filter({ hasText: 'Done' }).waitFor();
    }, 120_000);

    /** The newest settings card: the page keeps the ones opened before. */
    const settingsCard = () => article('Settings of this group').last();
    /** The settings card's text boxes are named by their placeholders. */
    const tomorrowTimeBox = () => settingsCard().getByRole('textbox', { name: 'A time such as 09:00', exact: true });

    it('opens the private settings card on /settings, and saves a change for the whole group', async () => {
      await actAs(ADMIN);
      await say('/settings');
      await settingsCard().waitFor();
      await messageWith('Settings of this group').getByText('Only visible to you').waitFor();
      expect(await tomorrowTimeBox().inputValue()).toBe('09:00');

      // Every day, so that the digest comes whichever weekday the clock lands on; "Tomorrow" at 08:30.
      await settingsCard()
        .locator('select', { has: page.locator('option[value="daily"]') })
        .selectOption('daily');
      await tomorrowTimeBox().fill('08:30');
      await settingsCard().getByRole('button', { name: 'Save' }).click();
      await toastShown(/^Saved\. .*Every day.*08:30/);

      // Opened again, a new card shows the saved value.
      await say('/settings');
      await expect.poll(() => article('Settings of this group').count()).toBe(2);
      expect(await tomorrowTimeBox().inputValue()).toBe('08:30');
    }, 60_000);

    /** The playground's clock in the group's zone (the playground's default, Shanghai). */
    const groupHour = () => new Date(playground.clock.now() + 8 * 3_600_000).getUTCHours();
    /** Moves the clock an hour at a time, as a person would press it, until the group's clock shows `hour`. */
    async function advanceToHour(hour: number) {
      while (groupHour() !== hour) await page.getByRole('button', { name: '+1 hour' }).click();
    }
    /** The message, in the chat, whose card is `name` and mentions the to-do. */
    const cardMessage = (name: string, todoText: string) =>
      page
        .locator('.message')
        .filter({ has: article(name) })
        .filter({ hasText: todoText });

    it('brings an open to-do back: its reminder, a nudge after quiet hours, and the morning digest with a one-tap Done', async () => {
      await actAs(ADMIN);
      await advanceToHour(20);
      await say('/todo Renew the certificate');
      const form = article('New to-do');
      await form.waitFor();
      await form.getByLabel('Remind at (optional)').fill(pickerValueIn(0.5));
      await form.getByRole('group', { name: 'Assignees (optional)' }).getByRole('checkbox', { name: ASSIGNEE }).check();
      await form.getByRole('button', { name: 'Submit' }).click();
      const todo = article('To-do').filter({ hasText: 'Renew the certificate' });
      await todo.locator('.text-tag').filter({ hasText: 'Open' }).waitFor();

      // The reminder, half an hour late only because the clock jumped an hour, does not say the bot was down; its
      // Tomorrow button shows the group's saved time.
      await advanceToHour(21);
      const reminder = cardMessage('Reminder', 'Renew the certificate');
      await reminder.waitFor();
      await reminder.getByRole('button', { name: 'Tomorrow 8:30' }).waitFor();
      expect(await reminder.getByText(/I was not running then/).count()).toBe(0);

      // The nudge comes due two hours after the reminder, after 22:00, inside the quiet hours: none through the night,
      // which the clock crosses an hour at a time; one at 8:00, replying to the to-do's card.
      const nudge = cardMessage('Overdue', 'Renew the certificate');
      await advanceToHour(7);
      expect(await nudge.count()).toBe(0);
      await advanceToHour(8);
      await nudge.waitFor();
      await nudge.getByText(`@${ASSIGNEE}`).waitFor();
      await nudge.locator('.quote').filter({ hasText: 'Renew the certificate' }).waitFor();
      await nudge.getByRole('button', { name: 'Done' }).waitFor();
      await nudge.getByRole('button', { name: 'Snooze 1 h' }).waitFor();

      // At 9:00 the digest lists it as overdue; its Done closes the to-do.
      await advanceToHour(9);
      const digest = article('Daily digest').filter({ hasText: 'Renew the certificate' });
      await digest.getByText('Overdue').first().waitFor();
      await digest.getByRole('button', { name: 'Done' }).click();
      await toastShown('Marked done.');
      await todo.locator('.text-tag').filter({ hasText: 'Done' }).waitFor();
    }, 180_000);
  });
}
