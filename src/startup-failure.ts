import type { Config } from './config';
import { ErrorCode, errorCode } from './errors';

/**
 * Why the bot could not start, as one plain line naming the setting and the fix: what a person reads in
 * `docker logs` or `journalctl` right before the exit code 1. Failures the bot already words (the store, the
 * credentials, the long connection) pass through; the operating system's are translated here.
 */
export function startupFailureLine(error: unknown, config: Config): string {
  switch (errorCode(error)) {
    case ErrorCode.StoreFileUnusable:
    case ErrorCode.StoreOpenFailed:
    case ErrorCode.CredentialsRefused:
    case ErrorCode.ReceiverStartFailed:
      return (error as Error).message;
  }
  const { code, syscall, path } = error as NodeJS.ErrnoException;
  const where = `${config.host}:${config.port}`;
  if (syscall === 'listen') {
    if (code === 'EADDRINUSE') return `PORT ${config.port} is already in use on ${config.host}: stop the other server or set PORT to a free port.`;
    if (code === 'EACCES') return `Not allowed to listen on ${where} (ports below 1024 need privileges): set PORT to 1024 or above.`;
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      return `HOST ${config.host} is not an address of this machine: set HOST to 0.0.0.0 (every address) or one of its own.`;
    }
  }
  if (path !== undefined && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
    return (
      `DATA_FILE ${config.dataFile}: cannot write ${path} (${code}): make its folder writable by the user the bot runs as, ` +
      'or set DATA_FILE to a writable place.'
    );
  }
  if (path !== undefined && code === 'ENOSPC') return `DATA_FILE ${config.dataFile}: the disk is full (${path}): free some space.`;
  return `Start-up failed: ${(error as Error).message ?? String(error)}`;
}
