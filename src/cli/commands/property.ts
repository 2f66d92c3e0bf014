// PLACEHOLDER: replaced by the part that owns this command group.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function registerProperty(_program: Command, _ctx: CliContext): void {}
