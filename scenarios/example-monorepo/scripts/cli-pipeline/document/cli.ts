import { Command } from 'commander';
import classifyDocsCommand from './commands/classify-docs';

const program = new Command();

program.name('doc-cli').description('Document pipeline: classify and maintain docs/').version('1.0.0');

program.addCommand(classifyDocsCommand);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
