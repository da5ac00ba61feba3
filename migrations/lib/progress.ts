/**
 * Progress and results, in one of three forms: bars redrawn on a terminal, plain log lines
 * otherwise, or JSON lines (`--json`) for machines. Everything printed passes through `redact`.
 */
import * as fmt from "./format";
import { redact } from "./redact";

export interface TableBar {
  /** Bytes streamed so far (added as they pass). */
  add(bytes: number): void;
  done(rows: number): void;
}

export interface Reporter {
  /** Start of a phase of one database: "schema", "data", "indexes", "sequences", "verify". */
  phase(database: string, phase: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** A table being copied; `expectedBytes` drives the percentage and ETA. */
  table(database: string, table: string, expectedBytes: number, estRows: number): TableBar;
  /** Expected bytes of the whole copy phase, for the overall bar. */
  expectTotal(bytes: number): void;
  /** A final result: `text` for people, `data` for --json. */
  result(kind: string, data: unknown, text: string): void;
  close(): void;
}

interface Live {
  database: string;
  table: string;
  expected: number;
  estRows: number;
  bytes: number;
  started: number;
  lastEmit: number;
}

function rate(bytes: number, started: number): number {
  const s = (Date.now() - started) / 1000;
  return s > 0 ? bytes / s : 0;
}

/** Shared bookkeeping of the three forms: live tables and overall totals. */
abstract class BaseReporter implements Reporter {
  protected live = new Set<Live>();
  protected totalBytes = 0;
  protected totalExpected = 0;
  protected started = Date.now();

  abstract phase(database: string, phase: string): void;
  abstract info(message: string): void;
  abstract warn(message: string): void;
  abstract result(kind: string, data: unknown, text: string): void;
  protected abstract onProgress(t: Live): void;
  protected abstract onDone(t: Live, rows: number): void;

  expectTotal(bytes: number): void {
    this.totalExpected = bytes;
    this.totalBytes = 0;
    this.started = Date.now();
  }

  table(database: string, table: string, expected: number, estRows: number): TableBar {
    const t: Live = {
      database,
      table,
      expected,
      estRows,
      bytes: 0,
      started: Date.now(),
      lastEmit: 0,
    };
    this.live.add(t);
    return {
      add: (n) => {
        t.bytes += n;
        this.totalBytes += n;
        this.onProgress(t);
      },
      done: (rows) => {
        this.live.delete(t);
        this.onDone(t, rows);
      },
    };
  }

  close(): void {}
}

export class JsonReporter extends BaseReporter {
  private emit(obj: Record<string, unknown>): void {
    process.stdout.write(redact(JSON.stringify({ time: new Date().toISOString(), ...obj })) + "\n");
  }
  phase(database: string, phase: string): void {
    this.emit({ event: "phase", database, phase });
  }
  info(message: string): void {
    this.emit({ event: "info", message });
  }
  warn(message: string): void {
    this.emit({ event: "warning", message });
  }
  result(kind: string, data: unknown): void {
    this.emit({ event: "result", kind, data });
  }
  protected onProgress(t: Live): void {
    const now = Date.now();
    if (now - t.lastEmit < 1000) return;
    t.lastEmit = now;
    this.emit({
      event: "table",
      state: "progress",
      database: t.database,
      table: t.table,
      bytes: t.bytes,
      expectedBytes: t.expected,
      bytesPerSecond: Math.round(rate(t.bytes, t.started)),
    });
  }
  protected onDone(t: Live, rows: number): void {
    this.emit({
      event: "table",
      state: "done",
      database: t.database,
      table: t.table,
      rows,
      bytes: t.bytes,
      seconds: (Date.now() - t.started) / 1000,
    });
  }
}

function doneLine(t: Live, rows: number): string {
  const s = (Date.now() - t.started) / 1000;
  return (
    `[${t.database}] ${t.table}: ${fmt.count(rows)} rows, ${fmt.bytes(t.bytes)} in ` +
    `${s.toFixed(1)} s (${fmt.bytes(rate(t.bytes, t.started))}/s)`
  );
}

/** Plain lines on stderr (results on stdout): for logs and pipes. */
export class LineReporter extends BaseReporter {
  protected write(line: string): void {
    process.stderr.write(redact(line) + "\n");
  }
  phase(database: string, phase: string): void {
    this.write(`[${database}] ${phase}`);
  }
  info(message: string): void {
    this.write(message);
  }
  warn(message: string): void {
    this.write(`warning: ${message}`);
  }
  result(_kind: string, _data: unknown, text: string): void {
    process.stdout.write(redact(text) + "\n");
  }
  protected onProgress(): void {}
  protected onDone(t: Live, rows: number): void {
    this.write(doneLine(t, rows));
  }
}

function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return "#".repeat(filled) + "-".repeat(width - filled);
}

function barLine(
  label: string,
  bytes: number,
  expected: number,
  estRows: number,
  started: number,
): string {
  const fraction = expected > 0 ? bytes / expected : 0;
  const r = rate(bytes, started);
  const eta = r > 0 ? Math.max(0, expected - bytes) / r : Infinity;
  const rows = estRows > 0 ? ` ~${fmt.count(Math.min(1, fraction) * estRows)} rows` : "";
  return (
    `${label.padEnd(28).slice(0, 28)} [${bar(fraction, 24)}] ${String(Math.min(99, Math.floor(fraction * 100))).padStart(2)}%` +
    `${rows}  ${fmt.bytes(bytes)}  ${fmt.bytes(r)}/s  ETA ${fmt.duration(eta)}`
  );
}

/** Bars redrawn in place on a terminal (stderr); finished tables scroll up as lines. */
export class TtyReporter extends LineReporter {
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  protected override write(line: string): void {
    this.clear();
    super.write(line);
    this.draw();
  }
  protected override onProgress(): void {
    // Redraws are paced by a timer, not by every chunk of data.
    this.timer ??= setInterval(() => {
      this.clear();
      this.draw();
    }, 250);
  }
  private clear(): void {
    if (this.drawn > 0) process.stderr.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }
  private draw(): void {
    if (this.live.size === 0) return;
    const lines = [...this.live].map((t) =>
      barLine(`${t.table}`, t.bytes, t.expected, t.estRows, t.started),
    );
    lines.push(barLine("overall", this.totalBytes, this.totalExpected, 0, this.started));
    process.stderr.write(lines.join("\n") + "\n");
    this.drawn = lines.length;
  }
  override close(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }
}

export function createReporter(json: boolean): Reporter {
  if (json) return new JsonReporter();
  return process.stderr.isTTY ? new TtyReporter() : new LineReporter();
}
