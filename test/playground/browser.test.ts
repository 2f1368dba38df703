import type { Page } from 'playwright-core';
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
      playground = await startPlayground();
      browser = await launchChromium();
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
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
        await page.locator('.toast').waitFor({ state: 'detached' });
      }
      expect(await form.count()).toBe(1);

      await text.fill('Ship the release notes');
      const remindAt = pickerValueIn(2);
      await form.getByLabel('Remind at (optional)').fill(remindAt);
      await form.getByRole('group', { name: 'Assignees (optional)' }).getByRole('checkbox', { name: ASSIGNEE }).check();
      await form.getByRole('button', { name: 'Submit' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /Posting your to-do/ })
        .waitFor();
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
      await page.getByRole('status').filter({ hasText: 'Marked done.' }).waitFor();
      await todo.locator('.text-tag').filter({ hasText: 'Done' }).waitFor();
      await todo.getByRole('button', { name: 'Reopen' }).waitFor();
      expect(await article('To-do').count()).toBe(1);

      // /recall withdraws the card: the chat shows it as recalled, and the admin is told.
      await say('/recall');
      await page.getByText('To-do Bot recalled a message').waitFor();
      await page.getByText(/Recalled the to-do/).waitFor();
      expect(await article('To-do').count()).toBe(0);
    }, 120_000);
  });
}
