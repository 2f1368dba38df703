import { FeishuAuthError } from '../../src/feishu/verify';

/** Why `fn` refused a push (the reason a `FeishuAuthError` carries), or undefined when it accepted it. */
export function authRefusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof FeishuAuthError) return error.reason;
    throw error;
  }
  return undefined;
}
