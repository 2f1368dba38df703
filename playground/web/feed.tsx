import type { FeedCardView, PersonView } from '../shared/view';
import type { Lang } from './card/i18n';
import { clockTime } from './format';

/** Each person's app feed cards, as their Feishu feed would list them (newest first). */
export function FeedPanel(p: { people: PersonView[]; feedCards: FeedCardView[]; timeZone: string; lang: Lang }) {
  return (
    <aside class="feed" aria-label="App feed cards">
      <h2>App feed cards</h2>
      {p.people.map((person) => {
        const cards = p.feedCards.filter((card) => card.userId === person.openId).sort((a, b) => b.at - a.at);
        return (
          <section key={person.openId} class="feed-person" aria-label={`${person.name}'s feed`}>
            <h3>{person.name}</h3>
            {cards.length === 0 ? (
              <p class="feed-empty">No feed cards</p>
            ) : (
              <ul>
                {cards.map((card) => (
                  <li class="feed-card">
                    <div class="feed-title">
                      {card.title}
                      {card.status && <span class={`feed-status status-${card.status.type}`}>{card.status.text}</span>}
                    </div>
                    {card.preview && <div class="feed-preview">{card.preview}</div>}
                    <time>{clockTime(card.at, p.timeZone, p.lang)}</time>
                  </li>
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </aside>
  );
}
