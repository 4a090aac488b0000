/** Types of scripts/settings-table.mjs, for the test that imports it. */
import type { SettingDescription } from '../src/server/settings.js';

export declare const REPO_ROOT: string;
export declare const SETTINGS_TABLE_FILES: readonly string[];
export declare const TABLE_START: string;
export declare const TABLE_END: string;
export declare function settingsTable(settings: readonly SettingDescription[]): string;
export declare function withSettingsTable(markdown: string, table: string, file?: string): string;
