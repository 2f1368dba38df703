import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VETTED_FLOORS, floorViolations } from '../../scripts/dependency-floor';

/** Issue 23, item 12: the lock file against a vetted floor, offline, so CI catches a downgrade without the advisory service. */

const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { version?: string }> };
const withVersion = (path: string, version: string) => ({ packages: { ...lock.packages, [path]: { ...lock.packages[path], version } } });

describe('the dependency floor', () => {
  it('passes the lock file as it is, every vetted package being in it', () => {
    expect(floorViolations(lock)).toEqual([]);
    const installed = new Set(Object.keys(lock.packages).map((path) => path.split('node_modules/').pop()));
    for (const name of ['axios', 'ws', 'protobufjs', 'path-to-regexp', 'form-data', 'koa']) expect(installed, name).toContain(name);
  });

  it('catches a downgrade below a floor, naming the copy, its version and the floor', () => {
    expect(floorViolations(withVersion('node_modules/axios', '1.11.0'))).toEqual([
      'node_modules/axios is 1.11.0, below the vetted 1.12.0: update it (npm update axios) or find what pins it',
    ]);
    expect(floorViolations(withVersion('node_modules/ws', '8.17.0'))).toHaveLength(1);
    expect(floorViolations(withVersion('node_modules/ws', '8.17.1-beta.1'))).toHaveLength(1);
    expect(floorViolations(withVersion('node_modules/ws', '7.5.9'))).toHaveLength(1);
  });

  it('passes a newer major than any floor, and checks each major line against its own', () => {
    expect(floorViolations(withVersion('node_modules/ws', '9.0.0'))).toEqual([]);
    expect(floorViolations({ packages: { 'node_modules/x/node_modules/path-to-regexp': { version: '0.1.12' } } })).toEqual([]);
    expect(floorViolations({ packages: { 'node_modules/x/node_modules/path-to-regexp': { version: '0.1.7' } } })).toHaveLength(1);
    expect(Object.keys(VETTED_FLOORS)).toEqual(expect.arrayContaining(['axios', 'ws', 'protobufjs', 'path-to-regexp', 'form-data']));
  });
});
