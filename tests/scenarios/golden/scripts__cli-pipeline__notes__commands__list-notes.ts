import { Command } from 'commander';

interface ListNotesOptions {
  dryRun?: boolean;
  verbose?: boolean;
}

const command = new Command('list-notes')
  .description('List notes')
  .option('--dry-run', 'show what would change without changing anything')
  .option('-v, --verbose', 'print more detail')
  .action(async (options: ListNotesOptions): Promise<void> => {
    const started = Date.now();
    if (options.verbose) {
      console.log(`notes list-notes: starting${options.dryRun ? ' (dry run)' : ''}`);
    }
    // The command's work goes here; keep side effects behind `options.dryRun`.
    console.log(`list-notes finished in ${Date.now() - started} ms`);
  });

export default command;
