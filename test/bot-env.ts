/** The secrets the tests' bot and emulator share. */
export const SECRETS = {
  // The SDK's long-connection client takes only real-looking App IDs: cli_ and 16 hex digits.
  appId: 'cli_a1b2c3d4e5f6a7b8',
  appSecret: 'test-app-secret-9f8e7d',
  verificationToken: 'vt-4c2b1a-verification',
  encryptKey: 'ek-77aa55-encrypt-key',
};

/**
 * The bot's environment, as `main.ts` reads it, for a bot talking to an emulator. Standalone on purpose: the
 * benchmark's footprint child imports it and must not load anything else. The emulator's URL is neither Feishu's
 * nor Lark's, so the bot would default to Chinese; these tests, the demo and the benchmarks are written in English,
 * so they say BOT_LANGUAGE (a test of the Chinese flow passes its own).
 */
export function botEnv(p: {
  feishuDomain: string;
  dataFile: string;
  port?: number | undefined;
  logLevel?: string | undefined;
  secrets?: typeof SECRETS | undefined;
  extra?: Record<string, string> | undefined;
}): Record<string, string> {
  const secrets = p.secrets ?? SECRETS;
  return {
    FEISHU_APP_ID: secrets.appId,
    FEISHU_APP_SECRET: secrets.appSecret,
    FEISHU_VERIFICATION_TOKEN: secrets.verificationToken,
    FEISHU_ENCRYPT_KEY: secrets.encryptKey,
    FEISHU_DOMAIN: p.feishuDomain,
    PORT: String(p.port ?? 0),
    HOST: '127.0.0.1',
    DATA_FILE: p.dataFile,
    LOG_LEVEL: p.logLevel ?? 'silent',
    BOT_LANGUAGE: 'en_us',
    ...p.extra,
  };
}
