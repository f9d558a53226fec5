// What a browser node's page shows (tab-page.ts), as its worker (tab-worker.ts) reports it.
export interface TabStatus {
  /**
   * connecting: to the bridge; waiting: ready for the program (or between its visits); running: the program runs
   * in this tab; disconnected: the bridge closed the connection or is gone; ended: the run is over; error: a failure.
   */
  state: 'connecting' | 'waiting' | 'running' | 'disconnected' | 'ended' | 'error';
  node: string;
  /** Hand-offs received and sent. */
  hopsIn: number;
  hopsOut: number;
  lastError: string;
}
