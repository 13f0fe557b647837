import { spawnSync } from 'child_process';
import { TrackingService } from './tracking-service';

// Usage: shell-command-tracker.ts <pipeline> <command> <argv...>
async function main(): Promise<number> {
  const [pipeline, commandName, ...argv] = process.argv.slice(2);
  if (!pipeline || !commandName || argv.length === 0) {
    console.error('usage: shell-command-tracker.ts <pipeline> <command> <argv...>');
    return 2;
  }
  const started = Date.now();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
  const status = result.status === 0 ? 'success' : 'error';
  try {
    await TrackingService.getInstance().record({
      pipeline_name: pipeline,
      command_name: commandName,
      status,
      duration_ms: Date.now() - started,
    });
  } catch (error: unknown) {
    console.error(`tracking skipped: ${error instanceof Error ? error.message : String(error)}`);
  }
  return result.status ?? 1;
}

main().then((code) => process.exit(code));
