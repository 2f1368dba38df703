import { useLayoutEffect, useRef } from 'preact/hooks';
import type { MessageBody, MessageView } from '../shared/view';
import type { CardContext } from './card/context';
import type { Lang } from './card/i18n';
import { cardPreview, renderCard } from './card/render';
import { clientText } from './client-text';
import { clockTime } from './format';
import { pageText } from './page-text';

/**
 * The chat's messages as one person's client shows them: who sent what and when, a reply's quote of its parent,
 * "only visible to you" on ephemeral cards, a recalled message as a one-line notice. A topic group shows its topics,
 * each message that started one followed by the replies in it.
 */

export interface TimelineProps {
  messages: MessageView[];
  /** The drawing context for a message's card, with its clicks bound to that message. */
  cardContext: (messageId: string) => CardContext;
  nameOf: (openId: string) => string;
  onReply: (message: MessageView) => void;
  /** A topic group's chat: messages grouped by topic. */
  topics: boolean;
  lang: Lang;
}

export function Timeline(p: TimelineProps) {
  const list = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);
  // Like a chat client: a new message brings a reader who was at the bottom down to it; a card changing in place,
  // or a reader scrolled up to fill a form, stays put. Before paint, so nothing is clicked at a place about to move.
  useLayoutEffect(() => {
    if (atBottom.current) list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [p.messages.length]);
  const onScroll = () => {
    const el = list.current;
    if (el) atBottom.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 40;
  };
  return (
    <ol class="timeline" aria-label={pageText('messages', p.lang)} ref={list} onScroll={onScroll}>
      {p.topics
        ? topicsOf(p.messages).map(([first, ...replies]) => (
            <li key={first.threadId ?? first.id} class="topic">
              <section aria-label={pageText('topic', p.lang, { text: preview(first.body, p.cardContext(first.id)) })}>
                <ol class="topic-messages">
                  {[first, ...replies].map((message) => (
                    <MessageItem key={message.id} message={message} {...p} />
                  ))}
                </ol>
              </section>
            </li>
          ))
        : p.messages.map((message) => <MessageItem key={message.id} message={message} {...p} />)}
    </ol>
  );
}

/** A topic group's messages by topic, in the order the topics began; each topic's messages in the order sent. */
function topicsOf(messages: MessageView[]): Array<[MessageView, ...MessageView[]]> {
  const topics = new Map<string, [MessageView, ...MessageView[]]>();
  for (const message of messages) {
    const key = message.threadId ?? message.id;
    const topic = topics.get(key);
    if (topic) topic.push(message);
    else topics.set(key, [message]);
  }
  return [...topics.values()];
}

function MessageItem(p: TimelineProps & { message: MessageView }) {
  const { message, nameOf } = p;
  const ctx = p.cardContext(message.id);
  const sender = nameOf(message.senderId);
  if (message.body.kind === 'recalled') {
    return (
      <li class="system-notice">
        {sender} {clientText('recalled', ctx.lang)}
      </li>
    );
  }
  return (
    <li class={`message ${message.onlyYou ? 'only-you' : ''}`}>
      <span class="avatar" aria-hidden="true">
        {[...sender][0] ?? '?'}
      </span>
      <div class="message-main">
        <div class="message-meta">
          <span class="sender">{sender}</span>
          <time>{clockTime(message.at, ctx.timeZone, ctx.lang)}</time>
          {message.onlyYou && <span class="only-you-tag">{clientText('onlyVisibleToYou', ctx.lang)}</span>}
        </div>
        {message.replyTo && (
          <blockquote class="quote">
            {nameOf(message.replyTo.senderId)}: {preview(message.replyTo.body, ctx)}
          </blockquote>
        )}
        {message.body.kind === 'card' ? renderCard(message.body.card, ctx) : <p class="text-bubble">{message.body.text}</p>}
        {!message.onlyYou && (
          <button type="button" class="reply-button" aria-label={pageText('replyTo', ctx.lang, { name: sender })} onClick={() => p.onReply(message)}>
            {pageText('reply', ctx.lang)}
          </button>
        )}
      </div>
    </li>
  );
}

/** One line standing for a message: a card's summary or title, a text, or that it was recalled. */
export function preview(body: MessageBody, ctx: CardContext): string {
  if (body.kind === 'recalled') return clientText('recalledQuote', ctx.lang);
  return body.kind === 'card' ? cardPreview(body.card, ctx) : body.text;
}
