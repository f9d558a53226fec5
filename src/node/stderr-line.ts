// The program's stderr and Kafu's log lines share this process's stderr. A program whose last text has no newline
// (libc++'s abort message, a prompt) would have the next log line run into it: a log line then starts a new line.
let midLine = false;

/** The program's bytes for fd 2, as they are. */
export function writeProgramStderr(data: Uint8Array): void {
  if (data.length === 0) return;
  midLine = data[data.length - 1] !== 0x0a;
  process.stderr.write(data);
}

/** One of Kafu's own lines (ending in a newline), on a line of its own. */
export function writeLogLine(line: string): void {
  process.stderr.write(midLine ? `\n${line}` : line);
  midLine = false;
}
