/**
 * Date.prototype.toISOString in JavaScript, from the UTC getters. V8's own sets up ICU's time
 * zone on its first call (the host's zone, from ICU's data in the node binary) although its
 * result is UTC: whole-process medians of 30 interleaved runs on Node 20, `node -e` with one
 * call against one getUTCFullYear(): 70.9 against 68.5 ms of CPU, 38.45 against 37.60 MiB
 * of peak RSS (160 more pages of ICU's data mapped). Every start calls it (SigV4 signing's
 * date, each log line, the dates of the output document), so the program installs this one
 * before it runs (installIsoDate()); the result is the same, character for character.
 */

const pad = (value: number, width: number): string => String(value).padStart(width, "0");
const getTime = Date.prototype.getTime;

/** The same string as V8's Date.prototype.toISOString, and the same errors. */
export function toISOString(this: Date): string {
  // Throws a TypeError when `this` is not a Date, as the built-in does.
  if (!Number.isFinite(getTime.call(this))) throw new RangeError("Invalid time value");
  const year = this.getUTCFullYear();
  const yearText =
    year >= 0 && year <= 9999 ? pad(year, 4) : `${year < 0 ? "-" : "+"}${pad(Math.abs(year), 6)}`;
  return (
    `${yearText}-${pad(this.getUTCMonth() + 1, 2)}-${pad(this.getUTCDate(), 2)}` +
    `T${pad(this.getUTCHours(), 2)}:${pad(this.getUTCMinutes(), 2)}:${pad(this.getUTCSeconds(), 2)}` +
    `.${pad(this.getUTCMilliseconds(), 3)}Z`
  );
}

/** Puts toISOString() in the place of Date.prototype.toISOString, with the built-in's attributes. */
export function installIsoDate(): void {
  Object.defineProperty(Date.prototype, "toISOString", {
    value: toISOString,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}
