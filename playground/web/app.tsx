import { useEffect, useRef, useState } from 'preact/hooks';
import type { MessageView, PlaygroundView, Toast } from '../shared/view';
import { api } from './api';
import type { CardContext } from './card/context';
import { LANGS, type Lang, localToast } from './card/i18n';
import { FeedPanel } from './feed';
import { fullTime } from './format';
import { Timeline, preview } from './timeline';

/**
 * The playground page: the group chat as the chosen person's Feishu client shows it, with the controls around it
 * (person, language, clock) and everyone's app feed cards beside it. The state lives on the server; the page asks
 * for it again after each action and every `POLL_MS`, since the bot's work (posting, PATCHing) happens after it
 * answers.
 */

const POLL_MS = 700;
const TOAST_MS = 4000;
const CLOCK_STEPS = [
  { label: '+10 min', minutes: 10 },
  { label: '+1 hour', minutes: 60 },
  { label: '+1 day', minutes: 24 * 60 },
];
const LANG_NAMES: Record<Lang, string> = { zh_cn: '中文', en_us: 'English' };

export function App() {
  const [view, setView] = useState<PlaygroundView>();
  const [viewer, setViewer] = useState<string>();
  const [lang, setLang] = useState<Lang>(navigator.language.toLowerCase().startsWith('zh') ? 'zh_cn' : 'en_us');
  const [toast, setToast] = useState<{ toast: Toast; seq: number }>();
  const [replyTo, setReplyTo] = useState<MessageView>();
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();
  const viewerRef = useRef(viewer);
  viewerRef.current = viewer;
  const requests = useRef(0);
  const toasts = useRef(0);

  /** Only the latest request's answer is shown, so a slow poll never undoes a newer view. */
  async function refresh() {
    const mine = ++requests.current;
    try {
      const next = await api.view(viewerRef.current);
      if (mine !== requests.current) return;
      setView(next);
      setProblem(undefined);
    } catch (error) {
      if (mine === requests.current) setProblem(`The playground server did not answer: ${(error as Error).message}`);
    }
  }

  function showToast(next: Toast) {
    const seq = ++toasts.current;
    setToast({ toast: next, seq });
    setTimeout(() => setToast((shown) => (shown?.seq === seq ? undefined : shown)), TOAST_MS);
  }

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [viewer]);

  if (!view) return <p class="loading">{problem ?? 'Starting…'}</p>;
  const me = view.people.find((p) => p.openId === view.viewer) ?? view.people[0];
  const names = new Map([[view.bot.openId, view.bot.name], ...view.people.map((p) => [p.openId, p.name] as const)]);
  const nameOf = (openId: string) => names.get(openId) ?? openId;
  const timeZone = me?.timeZone ?? 'UTC';

  const cardContext = (messageId: string): CardContext => ({
    lang,
    names,
    members: view.people.map((p) => p.openId),
    timeZone,
    now: view.now,
    notify: showToast,
    async act(click) {
      try {
        const answer = await api.click({ operator: view.viewer, messageId, click });
        if (answer.toast) showToast(answer.toast);
      } catch (error) {
        showToast({ type: 'error', content: (error as Error).message });
      }
      await refresh();
    },
  });

  async function send(event: Event) {
    event.preventDefault();
    if (!draft.trim() || busy || !view) return;
    setBusy(true);
    try {
      await api.say(view.viewer, draft, replyTo?.id);
      setDraft('');
      setReplyTo(undefined);
    } catch (error) {
      showToast({ type: 'error', content: (error as Error).message });
    } finally {
      setBusy(false);
    }
    await refresh();
  }

  async function changeTask(userId: string, guid: string, change: 'complete' | 'reopen') {
    try {
      await api.changeTask({ userId, guid, change });
    } catch (error) {
      showToast({ type: 'error', content: (error as Error).message });
    }
    await refresh();
  }

  async function moveClock(minutes: number) {
    setBusy(true);
    try {
      await api.moveClock(minutes);
    } finally {
      setBusy(false);
    }
    await refresh();
  }

  return (
    <div class="playground">
      <aside class="controls">
        <h1>To-do bot playground</h1>
        <fieldset class="people">
          <legend>Person</legend>
          {view.people.map((person) => (
            <label key={person.openId} class="person-choice">
              <input
                type="radio"
                name="person"
                checked={person.openId === (viewer ?? view.viewer)}
                onChange={() => {
                  setReplyTo(undefined);
                  setViewer(person.openId);
                }}
              />
              <span>{person.name}</span> <small>{person.role}</small>
            </label>
          ))}
        </fieldset>
        <label class="language">
          Language{' '}
          <select onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
            {LANGS.map((l) => (
              <option key={l} value={l} selected={l === lang}>
                {LANG_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
        <section class="clock" aria-label="Clock">
          <h2>Clock</h2>
          <p class="clock-now">
            {fullTime(view.now, timeZone, lang)} <small>({timeZone})</small>
          </p>
          <div class="clock-steps">
            {CLOCK_STEPS.map((step) => (
              <button key={step.minutes} type="button" disabled={busy} onClick={() => void moveClock(step.minutes)}>
                {step.label}
              </button>
            ))}
          </div>
        </section>
        <p class="hint">
          Try <code>/todo Ship the release notes</code>, <code>/todos</code>, <code>/recall</code>, <code>/help</code>.
        </p>
      </aside>

      <main class="chat" aria-label={view.chat.name}>
        <header class="chat-header">
          <h2>{view.chat.name}</h2>
          <span>{view.people.length + 1} members</span>
          <span class="viewing-as">Viewing as {me?.name}</span>
        </header>
        {problem && (
          <p class="problem" role="alert">
            {problem}
          </p>
        )}
        <Timeline messages={view.messages} cardContext={cardContext} nameOf={nameOf} onReply={setReplyTo} />
        <form class="composer" onSubmit={send}>
          {replyTo && (
            <div class="replying">
              <span>
                Replying to {nameOf(replyTo.senderId)}: {preview(replyTo.body, cardContext(replyTo.id))}
              </span>
              <button type="button" aria-label="Cancel reply" onClick={() => setReplyTo(undefined)}>
                ×
              </button>
            </div>
          )}
          <input
            type="text"
            aria-label="Message"
            placeholder={`Message ${view.chat.name}`}
            value={draft}
            onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="submit" disabled={busy}>
            Send
          </button>
        </form>
      </main>

      <FeedPanel people={view.people} feedCards={view.feedCards} tasks={view.tasks} timeZone={timeZone} lang={lang} onTask={(userId, guid, change) => void changeTask(userId, guid, change)} />

      {toast && (
        <div class={`toast toast-${toast.toast.type}`} role={toast.toast.type === 'error' ? 'alert' : 'status'}>
          {localToast(toast.toast, lang)}
        </div>
      )}
    </div>
  );
}
