// Clerk's clock, frozen for the parity runners: `Date.now()` and `new Date()` answer the instant
// last given to setNow (milliseconds). Importing this module installs the frozen Date globally,
// so import it before @clerk/backend (whose modules are loaded with a dynamic import after it).

const RealDate = Date;
let frozenNow = RealDate.now();

class FrozenDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) {
      super(frozenNow);
    } else {
      super(...args);
    }
  }

  static now() {
    return frozenNow;
  }
}
globalThis.Date = FrozenDate;

export function setNow(ms) {
  frozenNow = ms;
}
