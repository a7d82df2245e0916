/**
 * Neumaier-compensated running sum that supports removal (adding `-x`). Integer inputs stay exact
 * up to 2^53; float inputs do not drift under long assert/retract sequences the way a naive sum does.
 */
export class CompensatedSum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    if (Math.abs(this.s) >= Math.abs(x)) this.c += this.s - t + x;
    else this.c += x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}
