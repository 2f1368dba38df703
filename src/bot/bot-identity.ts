/**
 * The bot's own open_id, which tells a mention of the bot from a mention of a colleague. The start-up check learns
 * it; when Feishu was unreachable then, the first message that needs it looks it up, once for all who ask at the
 * same time, and a failed look-up is tried again by the next one.
 */
export class BotIdentity {
  private lookup: Promise<string> | undefined;
  private known: string | undefined;

  constructor(private readonly ask: () => Promise<{ openId: string }>) {}

  learn(openId: string): void {
    this.known = openId;
    this.lookup = Promise.resolve(openId);
  }

  openId(): Promise<string> {
    this.lookup ??= this.ask().then(
      (info) => (this.known = info.openId),
      (error: unknown) => {
        this.lookup = undefined;
        throw error;
      },
    );
    return this.lookup;
  }

  /** The open_id if already known: what the edge can use without asking Feishu. */
  knownOpenId(): string | undefined {
    return this.known;
  }
}
