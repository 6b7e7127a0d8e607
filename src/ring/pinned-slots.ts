// Fixed-size slots carved out of the pinned region. Only the JavaScript
// thread allocates; the device sees a slot only through the offset in a
// descriptor, between submission and completion.
export class PinnedSlots {
  readonly slotBytes: number;
  private readonly free: number[] = [];

  constructor(regionBytes: number, slotBytes: number) {
    this.slotBytes = slotBytes;
    const count = Math.floor(regionBytes / slotBytes);
    for (let i = count - 1; i >= 0; i--) this.free.push(i * slotBytes);
  }

  get available(): number {
    return this.free.length;
  }

  /** Offset of a free slot; the caller checked `available` first. */
  take(): number {
    const offset = this.free.pop();
    if (offset === undefined) throw new Error('uaccel: pinned region exhausted');
    return offset;
  }

  give(offset: number): void {
    this.free.push(offset);
  }
}
