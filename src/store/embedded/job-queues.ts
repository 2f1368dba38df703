/**
 * Pending job ids grouped as the outbox runs them: by chat, then by lane, each lane in enqueue order, lanes in the
 * order they opened. The outbox looks only at the first job of each lane of a chat with room, so finding the next
 * job costs the lanes it passes, not the jobs waiting: walking every pending job after each finished one made a
 * busy group quadratic (20k pushes queued in one group spent 60% of the CPU in that walk).
 */
export class JobQueues {
  private readonly byChat = new Map<string | undefined, Map<string, Set<string>>>();

  add(chatId: string | undefined, lane: string, id: string): void {
    let lanes = this.byChat.get(chatId);
    if (!lanes) {
      lanes = new Map();
      this.byChat.set(chatId, lanes);
    }
    const ids = lanes.get(lane);
    if (ids) ids.add(id);
    else lanes.set(lane, new Set([id]));
  }

  remove(chatId: string | undefined, lane: string, id: string): void {
    const lanes = this.byChat.get(chatId);
    const ids = lanes?.get(lane);
    if (!lanes || !ids?.delete(id)) return;
    if (ids.size > 0) return;
    lanes.delete(lane);
    if (lanes.size === 0) this.byChat.delete(chatId);
  }

  /** Each chat with pending jobs (`undefined`: jobs of no chat) and, per lane, the id of the job that runs next. */
  *chats(): Generator<[chatId: string | undefined, heads: Generator<[lane: string, id: string]>]> {
    for (const [chatId, lanes] of this.byChat) yield [chatId, heads(lanes)];
  }
}

function* heads(lanes: Map<string, Set<string>>): Generator<[string, string]> {
  for (const [lane, ids] of lanes) {
    const first = ids.values().next();
    if (!first.done) yield [lane, first.value];
  }
}
