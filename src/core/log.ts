// Log lines in Kafu's style (`<timestamp>  INFO <message>`), written to a sink the host chooses (stderr on Node).
export type Level = 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
const RANK: Record<Level, number> = { ERROR: 0, WARN: 1, INFO: 2, DEBUG: 3 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

export function createLogger(write: (line: string) => void, level: Level = 'INFO', prefix = ''): Logger {
  const at = (l: Level) => (msg: string) => {
    if (RANK[l] <= RANK[level]) write(`${new Date().toISOString()} ${l.padStart(5)} ${prefix}${msg}\n`);
  };
  return { error: at('ERROR'), warn: at('WARN'), info: at('INFO'), debug: at('DEBUG') };
}

export function parseLevel(value: string | undefined): Level {
  const v = (value ?? 'info').toUpperCase();
  return v in RANK ? (v as Level) : 'INFO';
}
