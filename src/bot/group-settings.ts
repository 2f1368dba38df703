import { type EffectiveSettings, resolveSettings } from '../domain/group-settings';
import type { Services } from './services';

/**
 * A chat's effective settings: what its admins chose (`/settings`, `/lang`), else the environment's defaults. The one
 * place the bot reads them, so every feature sees the same answer. Without a chat (a click Feishu reported without
 * one), the defaults.
 */
export async function groupSettings(services: Pick<Services, 'store' | 'config'>, chatId: string | undefined): Promise<EffectiveSettings> {
  return resolveSettings(chatId === undefined ? undefined : await services.store.chat(chatId), services.config.groupDefaults);
}
