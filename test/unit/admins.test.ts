import { describe, expect, it } from 'vitest';
import { AdminDirectory, AdminLookupTooSlow, adminCheckFailure } from '../../src/bot/admins';
import type { ChatAdmins } from '../../src/feishu/client';
import { FeishuApiError, FeishuNetworkError } from '../../src/feishu/errors';

/** The admin cache, against a scripted lookup and a moved clock. */
function directory(answers: Array<ChatAdmins | Error>) {
  let now = 0;
  const lookups: string[] = [];
  const admins = new AdminDirectory(
    async (chatId) => {
      lookups.push(chatId);
      const answer = answers.shift();
      if (!answer) throw new Error('no scripted answer left');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    60_000,
    () => now,
  );
  return { admins, lookups, advance: (ms: number) => (now += ms) };
}

const notFound = () => new FeishuApiError('im.v1.chat.get', 232006, 'Your request specifies a chat_id which is invalid.', 400);

describe('AdminDirectory', () => {
  it("caches a chat's admins for the cache time", async () => {
    const { admins, lookups, advance } = directory([
      { ownerId: 'ou_o', managerIds: ['ou_m'] },
      { ownerId: 'ou_o', managerIds: [] },
    ]);
    expect(await admins.isAdmin('oc_1', 'ou_m')).toBe(true);
    expect(await admins.isAdmin('oc_1', 'ou_o')).toBe(true);
    expect(lookups).toEqual(['oc_1']);
    advance(60_001);
    expect(await admins.isAdmin('oc_1', 'ou_m')).toBe(false);
    expect(lookups).toEqual(['oc_1', 'oc_1']);
  });

  it("caches Feishu's refusal to describe a chat as long, then asks again", async () => {
    const { admins, lookups, advance } = directory([notFound(), { ownerId: 'ou_o', managerIds: [] }]);
    for (let i = 0; i < 5; i++) await expect(admins.isAdmin('oc_gone', 'ou_x')).rejects.toMatchObject({ feishuCode: 232006 });
    expect(lookups).toEqual(['oc_gone']);
    advance(60_001);
    expect(await admins.isAdmin('oc_gone', 'ou_o')).toBe(true);
    expect(lookups).toHaveLength(2);
  });

  it('shares one lookup between concurrent questions about a chat', async () => {
    const { admins, lookups } = directory([{ ownerId: 'ou_o', managerIds: [] }]);
    expect(await Promise.all([admins.isAdmin('oc_1', 'ou_o'), admins.isAdmin('oc_1', 'ou_x'), admins.isAdmin('oc_1', 'ou_o')])).toEqual([true, false, true]);
    expect(lookups).toEqual(['oc_1']);
  });

  it('shares a refusal in flight as well', async () => {
    const { admins, lookups } = directory([notFound()]);
    const answers = await Promise.allSettled([admins.isAdmin('oc_gone', 'ou_a'), admins.isAdmin('oc_gone', 'ou_b')]);
    expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected']);
    expect(lookups).toEqual(['oc_gone']);
  });

  it('does not cache a failure a retry can cure', async () => {
    const { admins, lookups } = directory([new FeishuNetworkError('im.v1.chat.get', 'timeout'), { ownerId: 'ou_o', managerIds: [] }]);
    await expect(admins.isAdmin('oc_1', 'ou_o')).rejects.toBeInstanceOf(FeishuNetworkError);
    expect(await admins.isAdmin('oc_1', 'ou_o')).toBe(true);
    expect(lookups).toHaveLength(2);
  });
});

describe('a click’s admin check', () => {
  it('gives up after its wait while the look-up goes on, and the next ask is answered from the cache', async () => {
    let answer: (admins: ChatAdmins) => void = () => undefined;
    const admins = new AdminDirectory(
      () => new Promise<ChatAdmins>((resolve) => (answer = resolve)),
      60_000,
      () => 0,
    );
    await expect(admins.isAdmin('oc_1', 'ou_o', 10)).rejects.toBeInstanceOf(AdminLookupTooSlow);
    await expect(admins.chatMode('oc_1', 10)).rejects.toBeInstanceOf(AdminLookupTooSlow);
    answer({ ownerId: 'ou_o', managerIds: [] });
    expect(await admins.isAdmin('oc_1', 'ou_o', 10)).toBe(true);
  });

  it('tells why when Feishu refused for good, and to try again when a retry may cure it', () => {
    expect(adminCheckFailure(new AdminLookupTooSlow())).toBe('toast.permissionUnknown');
    expect(adminCheckFailure(new FeishuNetworkError('im.v1.chat.get', 'ECONNRESET'))).toBe('toast.permissionUnknown');
    expect(adminCheckFailure(notFound())).toBe('feishuError.unknownChat');
    const otherTenant = new FeishuApiError('im.v1.chat.get', 232010, 'Operator and chat can NOT be in different tenants.', 400);
    expect(adminCheckFailure(otherTenant)).toBe('feishuError.otherTenant');
  });
});
