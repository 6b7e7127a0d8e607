// Runs of fixed-size units carved out of the pinned region: the buffers a
// descriptor carries in pinned mode. Only the JavaScript thread allocates;
// the device sees a run only through the offset in a descriptor, between
// submission and completion.
//
// Next fit over a map of units. Descriptors are submitted in order and wait
// while the first in line does not fit, so the region drains until any run
// the queue accepts fits: none is starved.
export class PinnedArena {
  readonly unitBytes: number;
  /** Units of the run starting at each unit; 0 for a unit not starting one. */
  private readonly runUnits: Int32Array;
  /** 1 for a unit inside a run. */
  private readonly used: Uint8Array;
  private readonly units: number;
  private freeUnits: number;
  private cursor = 0;

  constructor(regionBytes: number, unitBytes: number) {
    this.unitBytes = unitBytes;
    this.units = Math.floor(regionBytes / unitBytes);
    this.runUnits = new Int32Array(this.units);
    this.used = new Uint8Array(this.units);
    this.freeUnits = this.units;
  }

  /** Bytes free, wherever they are. */
  get availableBytes(): number {
    return this.freeUnits * this.unitBytes;
  }

  /** Offset of a run of at least `bytes` (> 0), or -1 when no run that long is free. */
  take(bytes: number): number {
    const want = Math.ceil(bytes / this.unitBytes);
    if (want > this.freeUnits) return -1;
    const { used, units } = this;
    // Two passes from the cursor: to the end, then from the start.
    for (let pass = 0; pass < 2; pass++) {
      let at = pass === 0 ? this.cursor : 0;
      const end = pass === 0 ? units : Math.min(units, this.cursor + want - 1);
      while (at + want <= end) {
        let run = 0;
        while (run < want && used[at + run] === 0) run++;
        if (run === want) {
          used.fill(1, at, at + want);
          this.runUnits[at] = want;
          this.freeUnits -= want;
          this.cursor = at + want === units ? 0 : at + want;
          return at * this.unitBytes;
        }
        at += run + 1;
      }
    }
    return -1;
  }

  give(offset: number): void {
    const at = offset / this.unitBytes;
    const n = this.runUnits[at];
    if (n <= 0) throw new Error('uaccel: pinned run given back twice');
    this.runUnits[at] = 0;
    this.used.fill(0, at, at + n);
    this.freeUnits += n;
    // A drained region starts over from its first unit: whole again.
    if (this.freeUnits === this.units) this.cursor = 0;
  }
}
