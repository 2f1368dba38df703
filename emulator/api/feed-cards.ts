import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { perSecond } from '../rate-limits';
import { type Handler, ok, parseBody } from './exchange';

const CALLS_PER_SECOND = 10;

/** Reasons in `failed_cards`, as seed 001 lists them. */
const Reason = { noPermission: '1', notCreated: '2', duplicate: '4' } as const;

const CreateBody = z.object({
  app_feed_card: z.object({
    biz_id: z.string().min(1).max(200).optional(),
    title: z.string().min(1).max(60),
    preview: z.string().max(120).optional(),
    status_label: z.object({ text: z.string(), type: z.string() }).optional(),
    link: z.object({ link: z.string().min(1) }),
    time_sensitive: z.boolean().optional(),
  }),
  user_ids: z.array(z.string().min(1)).min(1).max(20),
});
const DeleteBody = z.object({
  feed_cards: z
    .array(z.object({ biz_id: z.string().min(1), user_id: z.string().min(1) }))
    .min(1)
    .max(20),
});

interface FailedCard {
  biz_id: string;
  user_id: string;
  reason: (typeof Reason)[keyof typeof Reason];
}

const keyOf = (bizId: string, userId: string) => `${bizId}:${userId}`;

/** A call can succeed while some cards fail: those are reported in `data.failed_cards` under code 0. */
export const createFeedCards: Handler = (call, state) => {
  state.limitApp([perSecond('feed-card-create', CALLS_PER_SECOND)]);
  const body = parseBody(CreateBody, call.body);
  const bizId = body.app_feed_card.biz_id ?? randomUUID();
  const sent = (call.body as { app_feed_card: object }).app_feed_card;
  const failed: FailedCard[] = [];
  for (const userId of body.user_ids) {
    // Someone outside the app's availability: Feishu does not let the app reach them.
    if (state.unavailableUsers.has(userId)) {
      failed.push({ biz_id: bizId, user_id: userId, reason: Reason.noPermission });
      continue;
    }
    const key = keyOf(bizId, userId);
    if (state.feedCards.has(key)) {
      failed.push({ biz_id: bizId, user_id: userId, reason: Reason.duplicate });
      continue;
    }
    state.feedCards.set(key, { bizId, userId, appFeedCard: { ...sent, biz_id: bizId }, createdAt: state.now() });
  }
  return ok({ biz_id: bizId, failed_cards: failed });
};

export const deleteFeedCards: Handler = (call, state) => {
  state.limitApp([perSecond('feed-card-delete', CALLS_PER_SECOND)]);
  const body = parseBody(DeleteBody, call.body);
  const failed: FailedCard[] = [];
  for (const { biz_id, user_id } of body.feed_cards) {
    if (!state.feedCards.delete(keyOf(biz_id, user_id))) {
      failed.push({ biz_id, user_id, reason: Reason.notCreated });
    }
  }
  return ok({ failed_cards: failed });
};
