import type { FeedCardView, PersonView, TaskView } from '../shared/view';
import type { Lang } from './card/i18n';
import { clockTime } from './format';
import { pageText } from './page-text';

/**
 * Each person's app feed cards, as their Feishu feed would list them (newest first), and their Feishu Task list,
 * where a task can be completed or reopened as in the Feishu Task app (Feishu then tells the bot).
 */
export function FeedPanel(p: {
  people: PersonView[];
  feedCards: FeedCardView[];
  tasks: TaskView[];
  timeZone: string;
  lang: Lang;
  onTask: (userId: string, guid: string, change: 'complete' | 'reopen') => void;
}) {
  return (
    <aside class="feed" aria-label={pageText('feedCards', p.lang)}>
      <h2>{pageText('feedCards', p.lang)}</h2>
      {p.people.map((person) => {
        const cards = p.feedCards.filter((card) => card.userId === person.openId).sort((a, b) => b.at - a.at);
        return (
          <section key={person.openId} class="feed-person" aria-label={pageText('feedOf', p.lang, { name: person.name })}>
            <h3>{person.name}</h3>
            <TaskList
              person={person}
              tasks={p.tasks.filter((task) => task.memberIds.includes(person.openId))}
              timeZone={p.timeZone}
              lang={p.lang}
              onTask={p.onTask}
            />
            {cards.length === 0 ? (
              <p class="feed-empty">{pageText('noFeedCards', p.lang)}</p>
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

function TaskList(p: {
  person: PersonView;
  tasks: TaskView[];
  timeZone: string;
  lang: Lang;
  onTask: (userId: string, guid: string, change: 'complete' | 'reopen') => void;
}) {
  if (p.tasks.length === 0) return null;
  return (
    <ul class="task-list" aria-label={pageText('taskListOf', p.lang, { name: p.person.name })}>
      {p.tasks.map((task) => (
        <li key={task.guid} class={`task-item${task.completed ? ' task-done' : ''}`}>
          <button
            type="button"
            class="task-check"
            aria-label={pageText(task.completed ? 'reopenTask' : 'completeTask', p.lang, { task: task.summary })}
            onClick={() => p.onTask(p.person.openId, task.guid, task.completed ? 'reopen' : 'complete')}
          >
            {task.completed ? '✓' : ''}
          </button>
          <span class="task-summary">{task.summary}</span>
          {task.dueAt !== undefined && <time>{clockTime(task.dueAt, p.timeZone, p.lang)}</time>}
        </li>
      ))}
    </ul>
  );
}
