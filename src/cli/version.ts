/** kwire's version, printed by `--version` and in SARIF reports. */
export const VERSION = '0.1.0';
