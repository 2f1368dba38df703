import type { z } from 'zod';
import { badParam } from '../errors';
import type { EmulatorState } from '../state';

/** One parsed request, as a handler sees it. */
export interface Call {
  method: string;
  path: string;
  /** Named segments of the route, e.g. `message_id`. */
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface Answer {
  status?: number;
  body: object;
  headers?: Record<string, string>;
}

/** Answers, or throws a FeishuError that the server turns into Feishu's error answer. */
export type Handler = (call: Call, state: EmulatorState) => Answer;

export const ok = (data: object, msg = 'success'): Answer => ({ body: { code: 0, msg, data } });

/** Shape errors become 230001 naming the field, as Feishu's "param is invalid" messages do. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'body';
  throw badParam(`${field}: ${issue?.message ?? 'invalid'}`);
}
