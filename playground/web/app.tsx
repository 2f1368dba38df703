import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatView, MessageView, PlaygroundView, Toast } from '../shared/view';
import { api } from './api';
import type { CardContext } from './card/context';
import { LANGS, type Lang, localToast } from './card/i18n';
import { FeedPanel } from './feed';
import { fullTime } from './format';
import { initialLang, pageText, rememberLang } from './page-text';
import { Timeline, preview } from './timeline';

/**
 * The playground page: one chat as the chosen person's Feishu client shows it (the group, the topic group, or their
 * direct chat with the bot), with the controls around it (person, chats, language, clock) and everyone's app feed
 * cards beside it. The state lives on the server; the page asks
 * for it again after each action and every `POLL_MS`, since the bot's work (posting, PATCHing) happens after it
 * answers.
 */

const POLL_MS = 700;
const TOAST_MS = 4000;
const CLOCK_STEPS = [
  { label: 'plus10min', minutes: 10 },
  { label: 'plus1hour', minutes: 60 },
  { label: 'plus1day', minutes: 24 * 60 },
] as const;
const LANG_NAMES: Record<Lang, string> = { zh_cn: '中文', en_us: 'English' };
const ROLE_TEXT = { 'Group owner': 'owner', Member: 'member' } as const;
/** The word under a chat's name in the chat list. */
const CHAT_KIND_TEXT = { group: undefined, topic: 'topicGroup', direct: 'directChat' } as const;
/** How the page asks for a chat: a group by its id, the viewer's direct chat with the bot as `direct`, whoever they are. */
const choiceOf = (chat: ChatView) => (chat.kind === 'direct' ? 'direct' : chat.id);
/** What the composer's box says in each kind of chat: a topic group's new message starts a topic. */
const COMPOSER_TEXT = { group: 'messageTo', topic: 'newTopicIn', direct: 'messageTo' } as const;

export function App() {
  const [view, setView] = useState<PlaygroundView>();
  const [viewer, setViewer] = useState<string>();
  /** A group's chat id, or `direct` for the viewer's own chat with the bot; undefined: the ordinary group. */
  const [chatChoice, setChatChoice] = useState<string>();
  const [lang, setLang] = useState<Lang>(initialLang);
  const [toast, setToast] = useState<{ toast: Toast; seq: number }>();
  const [replyTo, setReplyTo] = useState<MessageView>();
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();
  const viewerRef = useRef(viewer);
  viewerRef.current = viewer;
  const chatRef = useRef(chatChoice);
  chatRef.current = chatChoice;
  /** How many messages of each chat each person has seen (keyed `viewer chat`): what came after is new. */
  const seen = useRef(new Map<string, number>());
  const seenKey = (person: string, chatId: string) => `${person} ${chatId}`;
  const requests = useRef(0);
  const toasts = useRef(0);

  /** Only the latest request's answer is shown, so a slow poll never undoes a newer view. */
  async function refresh() {
    const mine = ++requests.current;
    try {
      const next = await api.view(viewerRef.current, chatRef.current);
      if (mine !== requests.current) return;
      // A chat first listed has nothing new yet; the chat shown is read as it comes.
      for (const chat of next.chats) {
        const key = seenKey(next.viewer, chat.id);
        if (!seen.current.has(key) || chat.id === next.chat.id) seen.current.set(key, chat.messages);
      }
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
  }, [viewer, chatChoice]);

  if (!view) return <p class="loading">{problem ?? 'Starting…'}</p>;
  const me = view.people.find((p) => p.openId === view.viewer) ?? view.people[0];
  const names = new Map([[view.bot.openId, view.bot.name], ...view.people.map((p) => [p.openId, p.name] as const)]);
  const nameOf = (openId: string) => names.get(openId) ?? openId;
  const timeZone = me?.timeZone ?? 'UTC';
  const unread = (chat: ChatView) => Math.max(0, chat.messages - (seen.current.get(seenKey(view.viewer, chat.id)) ?? chat.messages));

  const cardContext = (messageId: string): CardContext => ({
    lang,
    names,
    members: view.chat.kind === 'direct' ? [view.viewer] : view.people.map((p) => p.openId),
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
      await api.say(view.viewer, view.chat.id, draft, replyTo?.id);
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
        <h1>{pageText('title', lang)}</h1>
        <fieldset class="people">
          <legend>{pageText('person', lang)}</legend>
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
              <span>{person.name}</span> <small>{pageText(ROLE_TEXT[person.role as keyof typeof ROLE_TEXT] ?? 'member', lang)}</small>
            </label>
          ))}
        </fieldset>
        <fieldset class="chats">
          <legend>{pageText('chats', lang)}</legend>
          {view.chats.map((chat) => {
            const kind = CHAT_KIND_TEXT[chat.kind];
            const fresh = chat.id === view.chat.id ? 0 : unread(chat);
            return (
              <label key={choiceOf(chat)} class="chat-choice">
                <input
                  type="radio"
                  name="chat"
                  checked={chatChoice === undefined ? chat.id === view.chat.id : chatChoice === choiceOf(chat)}
                  onChange={() => {
                    setReplyTo(undefined);
                    setChatChoice(choiceOf(chat));
                  }}
                />
                <span>{chat.name}</span> {kind && <small>{pageText(kind, lang)}</small>}
                {fresh > 0 && <span class="unread">{pageText('unread', lang, { n: fresh })}</span>}
              </label>
            );
          })}
        </fieldset>
        <label class="language">
          {/* In both languages: whichever is shown, the switch must be found. */}
          Language · 语言{' '}
          <select
            onChange={(e) => {
              const chosen = (e.currentTarget as HTMLSelectElement).value as Lang;
              rememberLang(chosen);
              setLang(chosen);
            }}
          >
            {LANGS.map((l) => (
              <option key={l} value={l} selected={l === lang}>
                {LANG_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
        <section class="clock" aria-label={pageText('clock', lang)}>
          <h2>{pageText('clock', lang)}</h2>
          <p class="clock-now">
            {fullTime(view.now, timeZone, lang)} <small>({timeZone})</small>
          </p>
          <div class="clock-steps">
            {CLOCK_STEPS.map((step) => (
              <button key={step.minutes} type="button" disabled={busy} onClick={() => void moveClock(step.minutes)}>
                {pageText(step.label, lang)}
              </button>
            ))}
          </div>
        </section>
        <p class="hint">
          {pageText('hint', lang)} <code>/todo Ship the release notes</code>, <code>/todos</code>, <code>/settings</code>, <code>/recall</code>,{' '}
          <code>/help</code>.
        </p>
      </aside>

      <main class="chat" aria-label={view.chat.name}>
        <header class="chat-header">
          <h2>{view.chat.name}</h2>
          <span>{view.chat.kind === 'direct' ? pageText('directChat', lang) : pageText('members', lang, { n: view.chat.memberCount })}</span>
          {view.chat.kind === 'topic' && <span>{pageText('topicGroup', lang)}</span>}
          <span class="viewing-as">{pageText('viewingAs', lang, { name: me?.name ?? '' })}</span>
        </header>
        {problem && (
          <p class="problem" role="alert">
            {problem}
          </p>
        )}
        <Timeline messages={view.messages} cardContext={cardContext} nameOf={nameOf} onReply={setReplyTo} topics={view.chat.kind === 'topic'} lang={lang} />
        <form class="composer" onSubmit={send}>
          {replyTo && (
            <div class="replying">
              <span>
                {pageText('replyingTo', lang, { name: nameOf(replyTo.senderId) })} {preview(replyTo.body, cardContext(replyTo.id))}
              </span>
              <button type="button" aria-label={pageText('cancelReply', lang)} onClick={() => setReplyTo(undefined)}>
                ×
              </button>
            </div>
          )}
          <input
            type="text"
            aria-label={pageText('message', lang)}
            placeholder={pageText(COMPOSER_TEXT[view.chat.kind], lang, { chat: view.chat.name })}
            value={draft}
            onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="submit" disabled={busy}>
            {pageText('send', lang)}
          </button>
        </form>
      </main>

      <FeedPanel
        people={view.people}
        feedCards={view.feedCards}
        tasks={view.tasks}
        timeZone={timeZone}
        lang={lang}
        onTask={(userId, guid, change) => void changeTask(userId, guid, change)}
      />

      {toast && (
        <div class={`toast toast-${toast.toast.type}`} role={toast.toast.type === 'error' ? 'alert' : 'status'}>
          {localToast(toast.toast, lang)}
        </div>
      )}
    </div>
  );
}
