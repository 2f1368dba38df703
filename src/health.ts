/**
 * How a part of the bot reports on itself, for `/healthz` and the metrics alike. Each part (the store, Feishu, a
 * receiver such as a long connection) is one source: `ok` false means the process cannot do its work and a restart
 * may help (so `/healthz` answers 503); the other fields are detail for a person, and numbers among them also become
 * metrics. Sources are asked at request time, so each must answer from what it already knows, cheaply.
 */

export type ComponentHealth = { ok: boolean } & Record<string, unknown>;

export interface HealthSource {
  readonly name: string;
  health(): ComponentHealth;
}

export interface HealthReport {
  status: 'starting' | 'ok' | 'failing' | 'stopping';
  components: Record<string, ComponentHealth>;
}

export function healthReport(phase: 'starting' | 'ready' | 'stopping', sources: readonly HealthSource[]): HealthReport {
  const components: Record<string, ComponentHealth> = {};
  for (const source of sources) components[source.name] = source.health();
  const failing = Object.values(components).some((component) => !component.ok);
  return { status: phase === 'ready' ? (failing ? 'failing' : 'ok') : phase, components };
}
