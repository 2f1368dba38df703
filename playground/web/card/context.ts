import type { ClickRequest, Toast } from '../../shared/view';
import type { MarkdownContext } from './markdown';

/** What drawing a card needs besides the card: the reader, their language, and how their clicks reach the bot. */
export interface CardContext extends MarkdownContext {
  /** The candidates of a person picker without options: the members of the chat holding the card. */
  members: readonly string[];
  /** The reader's clock (ms): a time picker's value is sent with the offset in force then. */
  now: number;
  /** Sends a callback for this card; resolves once its answer is applied. */
  act(click: ClickRequest['click']): Promise<void>;
  /** Shows a toast the client raises by itself, without asking the bot. */
  notify(toast: Toast): void;
}
