import { describe, expect, it } from 'vitest';
import { RECORD_VERSION, type TodoForm } from '../src/domain/model';
import { formCardKey } from '../src/domain/todo-form';
import type { Persistence } from '../src/store/persistence';
import { RecordStore } from '../src/store/records';
import { CLOSED_FORM_RETENTION_MS, StateStore } from '../src/store/store';

/** One scenario, run against every persistence: what the bot relies on the store for. */
export function storeContract(name: string, make: () => Promise<{ persistence: () => Persistence; survivesReopen: boolean }>) {
  describe(`store contract: ${name}`, () => {
    const form = (id: string, patch: Partial<TodoForm> = {}): TodoForm => ({
      v: RECORD_VERSION,
      id,
      chatId: 'oc_1',
      ownerId: 'ou_a',
      status: 'open',
      draftText: '',
      createdAt: 0,
      updatedAt: 0,
      expiresAt: 1_000,
      ...patch,
    });

    async function open(persistence: Persistence) {
      const records = new RecordStore(persistence);
      await records.open();
      return { records, store: new StateStore(records) };
    }

    it('finds the open form of a person in a chat, and forgets it when closed', async () => {
      const { store, records } = await open((await make()).persistence());
      store.putForm(form('f1'));
      expect(store.openForm('oc_1', 'ou_a')?.id).toBe('f1');
      store.putForm(form('f1', { status: 'cancelled' }));
      expect(store.openForm('oc_1', 'ou_a')).toBeUndefined();
      expect(store.form('f1')?.status).toBe('cancelled');
      await records.close();
    });

    it('finds a form by its card key in every state, and forgets it once pruned', async () => {
      const { store, records } = await open((await make()).persistence());
      store.putForm(form('f1'));
      expect(store.formByCardKey(formCardKey('f1'))?.id).toBe('f1');
      store.putForm(form('f1', { status: 'posted' }));
      expect(store.formByCardKey(formCardKey('f1'))?.status).toBe('posted');
      expect(store.formByCardKey(formCardKey('f2'))).toBeUndefined();
      store.prune(CLOSED_FORM_RETENTION_MS + 1);
      expect(store.formByCardKey(formCardKey('f1'))).toBeUndefined();
      await records.close();
    });

    it('sees an event id once', async () => {
      const { store, records } = await open((await make()).persistence());
      expect(store.firstSighting('ev1', 0)).toBe(true);
      expect(store.firstSighting('ev1', 1)).toBe(false);
      await records.close();
    });

    it('returns due form expiries only once and only while open', async () => {
      const { store, records } = await open((await make()).persistence());
      store.putForm(form('f1', { expiresAt: 100 }));
      store.putForm(form('f2', { ownerId: 'ou_b', expiresAt: 200 }));
      store.putForm(form('f3', { ownerId: 'ou_c', expiresAt: 50, status: 'posted' }));
      expect(store.nextFormExpiry()).toBe(100);
      expect(store.expiredForms(150).map((f) => f.id)).toEqual(['f1']);
      expect(store.expiredForms(150)).toEqual([]);
      expect(store.expiredForms(250).map((f) => f.id)).toEqual(['f2']);
      await records.close();
    });

    it('keeps jobs in order and enqueues each id once', async () => {
      const { store, records } = await open((await make()).persistence());
      const job = (id: string) => ({ id, kind: 'k', lane: 'l', payload: {}, runAt: 0, createdAt: 0 });
      store.enqueue(job('b'));
      store.enqueue(job('a'));
      store.enqueue(job('b'));
      expect(store.pendingJobs().map((j) => j.id)).toEqual(['b', 'a']);
      store.deleteJob('b');
      expect(store.pendingJobs().map((j) => j.id)).toEqual(['a']);
      await records.close();
    });

    it('prunes old event ids and long-closed forms, keeping the rest', async () => {
      const { store, records } = await open((await make()).persistence());
      const day = 24 * 60 * 60 * 1000;
      store.firstSighting('old', 0);
      store.firstSighting('new', 9 * day);
      store.putForm(form('closed', { status: 'expired', updatedAt: 0 }));
      store.putForm(form('open', { ownerId: 'ou_b', updatedAt: 0 }));
      expect(store.prune(9 * day)).toBe(2);
      expect(store.firstSighting('old', 9 * day)).toBe(true);
      expect(store.firstSighting('new', 9 * day)).toBe(false);
      expect(store.form('closed')).toBeUndefined();
      expect(store.form('open')).toBeDefined();
      await records.close();
    });

    it('brings back what was flushed after a reopen', async () => {
      const setup = await make();
      if (!setup.survivesReopen) return;
      const first = await open(setup.persistence());
      first.store.putForm(form('f1'));
      first.store.firstSighting('ev1', 0);
      first.store.enqueue({ id: 'j1', kind: 'k', lane: 'l', payload: { x: 1 }, runAt: 0, createdAt: 0 });
      await first.store.flush();
      await first.records.close();

      const second = await open(setup.persistence());
      expect(second.store.openForm('oc_1', 'ou_a')?.id).toBe('f1');
      expect(second.store.formByCardKey(formCardKey('f1'))?.id).toBe('f1');
      expect(second.store.firstSighting('ev1', 1)).toBe(false);
      expect(second.store.pendingJobs()).toMatchObject([{ id: 'j1', payload: { x: 1 } }]);
      await second.records.close();
    });
  });
}
