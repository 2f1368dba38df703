/** The languages the bot speaks, named as Feishu names them in cards' i18n fields and toasts. */
export const LANGUAGES = ['zh_cn', 'en_us'] as const;
export type Language = (typeof LANGUAGES)[number];
