// A mistake by the user (bad config, bad module, bad arguments): printed as one clear line, never as a stack trace.
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}
