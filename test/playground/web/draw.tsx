import { render } from 'preact';
import { afterEach } from 'vitest';
import type { CardContext } from '../../../playground/web/card/context';
import type { Lang } from '../../../playground/web/card/i18n';
import { renderCard } from '../../../playground/web/card/render';

/** Drawing a card into the test's DOM (happy-dom) with a context that records what the card sends. */

export function context(overrides: Partial<CardContext> = {}): CardContext & { clicks: unknown[]; toasts: unknown[] } {
  const clicks: unknown[] = [];
  const toasts: unknown[] = [];
  return {
    lang: 'en_us' as Lang,
    names: new Map([
      ['ou_alex', 'Alex Chen'],
      ['ou_bea', 'Bea Li'],
    ]),
    members: ['ou_alex', 'ou_bea'],
    timeZone: 'Asia/Shanghai',
    now: Date.UTC(2026, 10, 24, 1, 0),
    act: async (click) => void clicks.push(click),
    notify: (toast) => void toasts.push(toast),
    clicks,
    toasts,
    ...overrides,
  };
}

let container: HTMLElement | undefined;
export function draw(card: unknown, ctx: CardContext = context()): HTMLElement {
  container = document.createElement('div');
  document.body.append(container);
  render(renderCard(card, ctx), container);
  return container;
}
afterEach(() => {
  if (container) render(null, container);
  container?.remove();
});
