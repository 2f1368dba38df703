/**
 * What kind of failure a store's error is, in one word safe to show on a public port (`/healthz`): the driver's own
 * text can name hosts, users and databases, so it goes to the log and only the category is shown.
 */
export type StoreFailure = 'unreachable' | 'auth' | 'timeout' | 'disk' | 'failed';

const BY_CODE: Record<string, StoreFailure> = {
  // Node's network errors, from the PostgreSQL driver's socket.
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  ENOTFOUND: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EAI_AGAIN: 'unreachable',
  ETIMEDOUT: 'timeout',
  // PostgreSQL's SQLSTATEs: invalid password, invalid authorization, no such database, too many connections,
  // statement or lock timeout, the server shutting down.
  '28P01': 'auth',
  '28000': 'auth',
  '3D000': 'auth',
  '53300': 'unreachable',
  '57014': 'timeout',
  '55P03': 'timeout',
  '57P01': 'unreachable',
  '57P03': 'unreachable',
  // The file store's disk.
  ENOSPC: 'disk',
  EACCES: 'disk',
  EPERM: 'disk',
  EROFS: 'disk',
  EIO: 'disk',
};

export function storeFailure(error: unknown): StoreFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in BY_CODE) return BY_CODE[code] as StoreFailure;
  const message = (error as Error | null)?.message ?? '';
  // pg-pool's "timeout exceeded when trying to connect" and "Connection terminated due to connection timeout" carry no code.
  if (/timeout|timed out/i.test(message)) return 'timeout';
  // node-postgres's "Connection terminated unexpectedly": the server went away mid-statement (a restart, a failover).
  if (/connection terminated/i.test(message)) return 'unreachable';
  return 'failed';
}
