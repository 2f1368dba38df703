/**
 * A buffer kept for one step of reading a push, instead of a new one per push (small ones come from Node's pool,
 * whose 8 KiB slabs a push's bytes used up every few pushes). Safe to reuse because that step runs synchronously and
 * nothing of the buffer outlives it; each step has its own. It grows to the largest push seen.
 */
export function reusedBuffer(initialBytes: number): (atLeast: number) => Buffer {
  let buffer = Buffer.allocUnsafe(initialBytes);
  return (atLeast) => {
    if (atLeast > buffer.length) buffer = Buffer.allocUnsafe(atLeast);
    return buffer;
  };
}
