#!/usr/bin/env node
// Entry point for `npx edgenet ...`: registers tsx so the TypeScript sources run
// directly (no build step), then hands over to the CLI's main().
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2), process.env);
if (typeof code === 'number') process.exitCode = code;
