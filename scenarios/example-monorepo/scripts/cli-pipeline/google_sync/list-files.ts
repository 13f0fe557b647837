import { formatterService } from '../../../packages/shared/services/formatter-service';

interface DriveFile {
  id: string;
  name: string;
  modifiedTime: string;
}

function parseArgs(argv: string[]): { folder: string; limit: number } {
  const folderIndex = argv.indexOf('--folder');
  const limitIndex = argv.indexOf('--limit');
  return {
    folder: folderIndex >= 0 ? argv[folderIndex + 1] ?? 'root' : 'root',
    limit: limitIndex >= 0 ? Number(argv[limitIndex + 1] ?? '20') : 20,
  };
}

async function listFiles(folder: string, limit: number): Promise<DriveFile[]> {
  const token = process.env.GOOGLE_ACCESS_TOKEN;
  if (!token) {
    throw new Error('GOOGLE_ACCESS_TOKEN is not set; see .env.example');
  }
  const query = encodeURIComponent(`'${folder}' in parents and trashed = false`);
  const response = await fetch(
    `https://www.googleapis.com/drive/v3/files?q=${query}&pageSize=${limit}&fields=files(id,name,modifiedTime)`,
    { headers: { Authorization: `Bearer ${token}` } },
  );
  if (!response.ok) {
    throw new Error(`Drive API answered ${response.status}`);
  }
  const body = (await response.json()) as { files?: DriveFile[] };
  return body.files ?? [];
}

async function main(): Promise<void> {
  const { folder, limit } = parseArgs(process.argv.slice(2));
  const files = await listFiles(folder, limit);
  for (const file of files) {
    console.log(`${formatterService.isoDate(file.modifiedTime)}  ${formatterService.truncate(file.name, { maxLength: 60 })}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
