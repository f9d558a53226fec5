// The error of a library-OS state this host will not restore (from a snapshot, or the wire): hostile or corrupt.
// Its message names the field or entry and the path, and says why; nothing has been done outside the mount.

export class StateRefused extends Error {
  /** @param errno the WASI errno behind the refusal, when a path check had one (ENOENT: a folder on the way is missing) */
  constructor(what: string, readonly errno?: number) {
    super(`snapshot refused: ${what}`);
    this.name = 'StateRefused';
  }
}
