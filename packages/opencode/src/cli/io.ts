/** Where a command writes. The CLI binds it to the process; tests may capture it. */
export interface IO {
  stdout(text: string): void
  stderr(text: string): void
  env: Record<string, string | undefined>
  readStdin(): Promise<string>
}

export const processIO: IO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  readStdin: () => Bun.stdin.text(),
}
