import type { ChatSettings, MemberChange } from './model';

/**
 * Who left a chat, as Feishu's member events tell it: such a person is not @-mentioned by what the bot posts there
 * (reminders, nudges, digests), which would reach someone no longer in the group.
 */

/** People's latest changes a chat record keeps at most: the most recent. */
export const MEMBER_CHANGES_LIMIT = 1_000;

const NOBODY: ReadonlySet<string> = new Set();

/** The people Feishu last said left the chat. */
export function membersWhoLeft(chat: Pick<ChatSettings, 'memberChanges'> | undefined): ReadonlySet<string> {
  const changes = chat?.memberChanges;
  if (!changes) return NOBODY;
  return new Set(Object.entries(changes).flatMap(([openId, change]) => (change.left ? [openId] : [])));
}

/**
 * The changes with `userIds` having joined or left at `at` (when Feishu made the event): a person's change older than
 * the one recorded for them is a redelivery and changes nothing. Undefined when nothing changed.
 */
export function withMemberChanges(
  changes: Readonly<Record<string, MemberChange>> | undefined,
  userIds: readonly string[],
  left: boolean,
  at: number,
): Record<string, MemberChange> | undefined {
  const next: Record<string, MemberChange> = { ...changes };
  let changed = false;
  for (const openId of userIds) {
    const known = next[openId];
    if (known !== undefined && (known.at > at || (known.at === at && known.left === left))) continue;
    next[openId] = { left, at };
    changed = true;
  }
  if (!changed) return undefined;
  const entries = Object.entries(next);
  if (entries.length <= MEMBER_CHANGES_LIMIT) return next;
  // The oldest go: a joining kept orders a late redelivery of an older leaving, which must not mark someone back.
  const kept = entries.sort(([, a], [, b]) => b.at - a.at).slice(0, MEMBER_CHANGES_LIMIT);
  return Object.fromEntries(kept);
}
