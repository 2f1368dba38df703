import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditVerdict } from '../../scripts/audit';

const recorded = (name: string) => readFileSync(new URL(`../fixtures/npm-audit/${name}.json`, import.meta.url), 'utf8');

describe('the CI audit verdict', () => {
  it('passes, saying so plainly, when the advisory service cannot be reached', () => {
    const verdict = auditVerdict(recorded('unreachable'));
    expect(verdict.pass).toBe(true);
    expect(verdict.line).toMatch(/could not reach the advisory service \(405 Method Not Allowed/);
    expect(verdict.line).toContain('NOT audited');
  });

  it('fails on a high advisory, naming the package', () => {
    expect(auditVerdict(recorded('vulnerable'))).toEqual({ pass: false, line: expect.stringContaining('node-fetch (high)') });
  });

  it('fails on a critical one too, but not on moderate or low ones', () => {
    const report = JSON.parse(recorded('vulnerable'));
    report.vulnerabilities['node-fetch'].severity = 'critical';
    report.metadata.vulnerabilities = { ...report.metadata.vulnerabilities, high: 0, critical: 1 };
    expect(auditVerdict(JSON.stringify(report)).pass).toBe(false);
    report.vulnerabilities['node-fetch'].severity = 'moderate';
    report.metadata.vulnerabilities = { ...report.metadata.vulnerabilities, critical: 0, moderate: 1 };
    expect(auditVerdict(JSON.stringify(report))).toEqual({ pass: true, line: expect.stringContaining('1 moderate') });
  });

  it('passes a clean report, and says it could not run when npm printed no JSON', () => {
    expect(auditVerdict(recorded('clean'))).toEqual({ pass: true, line: expect.stringMatching(/^npm audit: no high or critical advisories/) });
    expect(auditVerdict('npm ERR! something')).toEqual({ pass: true, line: expect.stringContaining('could not run') });
  });
});
