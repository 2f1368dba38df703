/**
 * The servers the webhook figures measure, and what each reports: apart from webhook-server.ts, which starts one
 * of them as soon as it is loaded (it is a child process's entry), so that the parent can name them without
 * starting a server of its own.
 */

export type ServerKind =
  | 'bare'
  | 'bare-body'
  | 'verify'
  | 'verify-http'
  | 'sdk'
  | 'bot-chatter'
  | 'bot'
  | 'bot-fsync'
  | 'bot-100k'
  | 'held-pg'
  | 'held-pg-async';

const BOT_KINDS = ['bot-chatter', 'bot', 'bot-fsync', 'bot-100k', 'held-pg', 'held-pg-async'] as const;

/** The kinds that are the bot, which calls Feishu (its tenant token, its identity, a check of its credentials). */
export function callsFeishu(kind: ServerKind): kind is (typeof BOT_KINDS)[number] {
  return (BOT_KINDS as readonly ServerKind[]).includes(kind);
}

export interface ServerStats {
  /** CPU time (user + system, all threads) this process has used so far. */
  cpuMs: number;
  /** The part of it in user mode: the process's own code, without the kernel's work in its system calls. */
  userCpuMs: number;
  /** Pushes the handler saw (bare, sdk) or event ids the bot stored: equals the pushes sent when none was a repeat. */
  handled: number;
  /** The bot's store: appends (batches written), changes written, time in append, snapshots written. */
  appends: number;
  changes: number;
  appendMs: number;
  compactions: number;
  compactionMs: number;
}
