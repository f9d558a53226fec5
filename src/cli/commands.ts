// The list of subcommands. Each file registers one tool.
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
