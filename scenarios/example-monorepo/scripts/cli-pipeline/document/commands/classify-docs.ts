import { readdirSync, readFileSync } from 'fs';
import path from 'path';
import { Command } from 'commander';
import { classifyDocument } from '../../../../packages/shared/services/classify-service';

interface ClassifyDocsOptions {
  dir: string;
}

const command = new Command('classify-docs')
  .description('Classify markdown documents under docs/')
  .option('--dir <dir>', 'folder to scan', 'docs')
  .action((options: ClassifyDocsOptions) => {
    for (const entry of readdirSync(options.dir, { withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.md')) {
        continue;
      }
      const firstLine = readFileSync(path.join(options.dir, entry.name), 'utf8').split('\n')[0] ?? '';
      console.log(`${classifyDocument(firstLine).padEnd(16)} ${entry.name}`);
    }
  });

export default command;
