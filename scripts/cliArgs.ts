/**
 * The `--flag [value]` arguments of the repository's commands (preflight, smoke, replay, cost), walked one way.
 */

/**
 * Calls `onFlag` for each flag of `argv` with a function that takes the flag's value: a missing value, or
 * another flag in its place, is an error naming `usage`. `onFlag` returns false for a flag it does not know,
 * which is refused the same way.
 */
export function walkFlags(argv: readonly string[], usage: string, onFlag: (flag: string, value: () => string) => boolean): void {
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = (): string => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value; ${usage}`);
            return v;
        };
        if (!onFlag(flag, value)) throw new Error(`unknown argument ${flag}; ${usage}`);
    }
}
