/**
 * How a part of the bot reports on itself, for `/healthz` and the metrics alike. Each part (the store, Feishu, how
 * pushes arrive) is one source: `ok` false means the process cannot do its work and a restart may help (so `/healthz`
 * answers 503); the other fields are detail for a person. Sources are asked at request time, so each answers from
 * what it already knows, or with one cheap query (the store's counts, which PostgreSQL answers from indexes).
 */

/** `degraded`: the part works in part (Feishu not reached yet): /healthz says so but answers 200, so no balancer kills it. */
export type ComponentHealth = { ok: boolean; degraded?: boolean } & Record<string, unknown>;

export interface HealthSource {
  readonly name: string;
  health(): ComponentHealth | Promise<ComponentHealth>;
}

export interface HealthReport {
  status: 'starting' | 'ok' | 'degraded' | 'failing' | 'stopping';
  components: Record<string, ComponentHealth>;
}

export async function healthReport(phase: 'starting' | 'ready' | 'stopping', sources: readonly HealthSource[]): Promise<HealthReport> {
  const components: Record<string, ComponentHealth> = {};
  const answers = await Promise.all(sources.map(async (source) => [source.name, await source.health()] as const));
  for (const [name, health] of answers) components[name] = health;
  const failing = Object.values(components).some((component) => !component.ok);
  const degraded = Object.values(components).some((component) => component.degraded === true);
  return { status: phase === 'ready' ? (failing ? 'failing' : degraded ? 'degraded' : 'ok') : phase, components };
}
