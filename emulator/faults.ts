import { STATUS_CODES } from 'node:http';
import type { FaultRule } from './types';

/** What a fault does to one call. */
export type FaultEffect =
  | { kind: 'drop'; delayMs: number }
  | { kind: 'delay'; delayMs: number; until?: Promise<void> | undefined }
  | { kind: 'answer'; delayMs: number; status: number; body: unknown; headers: Record<string, string> };

interface ArmedRule {
  rule: FaultRule;
  remaining: number;
  /** A held call waits for this before it is handled (see `Emulator.hold`). */
  until?: Promise<void> | undefined;
}

/** Rules are tried in the order added; the first that matches, has uses left and passes its dice roll applies. */
export class FaultBook {
  private rules: ArmedRule[] = [];

  add(rule: FaultRule, until?: Promise<void>): void {
    this.rules.push({ rule, remaining: rule.times ?? 1, until });
  }

  clear(): void {
    this.rules = [];
  }

  take(method: string, path: string): FaultEffect | null {
    for (const armed of this.rules) {
      if (armed.remaining <= 0 || !matches(armed.rule, method, path)) continue;
      if (Math.random() >= (armed.rule.probability ?? 1)) continue;
      armed.remaining -= 1;
      return armed.until ? { kind: 'delay', delayMs: 0, until: armed.until } : effectOf(armed.rule);
    }
    return null;
  }
}

function matches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  return rule.path === undefined || pathMatches(rule.path, path);
}

/** A string names the exact pathname. */
export function pathMatches(pattern: string | RegExp, path: string): boolean {
  if (typeof pattern === 'string') return pattern === path;
  pattern.lastIndex = 0; // a /g pattern would otherwise remember where the previous call stopped
  return pattern.test(path);
}

function effectOf(rule: FaultRule): FaultEffect {
  const delayMs = rule.delayMs ?? 0;
  if (rule.drop) return { kind: 'drop', delayMs };
  const answers = rule.status !== undefined || rule.code !== undefined || rule.msg !== undefined || rule.headers !== undefined || rule.body !== undefined;
  if (!answers && rule.delayMs !== undefined) return { kind: 'delay', delayMs };
  const code = rule.code ?? codeIn(rule.body);
  const status = rule.status ?? (code === 0 ? 200 : code !== undefined ? 400 : 500);
  const body = rule.body ?? { code: code ?? status, msg: rule.msg ?? STATUS_CODES[status] ?? 'fault' };
  return { kind: 'answer', delayMs, status, body, headers: rule.headers ?? {} };
}

const codeIn = (body: unknown) => (typeof (body as { code?: unknown } | null)?.code === 'number' ? (body as { code: number }).code : undefined);
