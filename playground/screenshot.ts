/**
 * `npm run playground:screenshot`: starts the playground, plays a short scene in Chromium (the admin posts a to-do
 * for Bea, then opens a second form) and saves the page as `docs/playground.png` for the README.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH, chromiumInstalled, launchChromium } from './browser';
import { startPlayground } from './server/playground';

const OUTPUT = fileURLToPath(new URL('../docs/playground.png', import.meta.url));

if (!chromiumInstalled()) {
  console.error(`No Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  process.exit(1);
}

const playground = await startPlayground();
const browser = await launchChromium({ width: 1280, height: 1080 });
try {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(playground.url);
  await page.getByRole('combobox', { name: 'Language' }).selectOption('en_us');
  const say = async (text: string) => {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
  };

  await say('@To-do Bot /todo Ship the release notes');
  let form = page.getByRole('article', { name: 'New to-do' });
  await form.getByRole('group', { name: 'Assignees (optional)' }).getByRole('checkbox', { name: 'Bea Li' }).check();
  const tomorrowAt10 = `${new Date(playground.clock.now() + 32 * 3_600_000).toISOString().slice(0, 11)}10:00`;
  await form.getByLabel('Remind at (optional)').fill(tomorrowAt10);
  await form.getByRole('button', { name: 'Submit' }).click();
  await page.getByRole('article', { name: 'To-do', exact: true }).waitFor();
  await form.waitFor({ state: 'detached' });

  await say('/todo Book the launch retro');
  form = page.getByRole('article', { name: 'New to-do' });
  await form.waitFor();
  await form.getByRole('group', { name: 'Assignees (optional)' }).getByRole('checkbox', { name: 'Chris Wang' }).check();
  // The toast of the submit above has gone by now; the page is as a person would leave it.
  await page.locator('.toast').waitFor({ state: 'detached' });
  await mkdir(fileURLToPath(new URL('../docs/', import.meta.url)), { recursive: true });
  await page.screenshot({ path: OUTPUT });
  console.log(`Saved ${OUTPUT}`);
} finally {
  await browser.close();
  await playground.stop();
}
