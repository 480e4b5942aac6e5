/**
 * Sub-commands other than the init. Each is loaded only when used (require
 * inside the function), so the init's start-up never pays for them.
 */
export const MODES: Readonly<Record<string, (args: string[]) => void>> = {};
