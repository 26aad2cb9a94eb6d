// Command-line parsing with node:util parseArgs: strict (unknown options are usage errors),
// positionals allowed, `--no-<flag>` for boolean flags.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./exit-codes.ts";

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;
type CommandArgsConfig<O extends OptionsConfig> = {
  args: string[];
  options: O;
  allowPositionals: true;
  strict: true;
  allowNegative: true;
};

/** What {@link parseCommandArgs} returns: typed `values` and the `positionals`. */
export type CommandArgs<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<CommandArgsConfig<O>>
>;

/** Parses `args` of `command` against `options`; a parse failure becomes a {@link UsageError}. */
export const parseCommandArgs = <const O extends OptionsConfig>(
  command: string,
  args: readonly string[],
  options: O,
): CommandArgs<O> => {
  try {
    return parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
      allowNegative: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
};

/** At most `max` positionals, else a usage error naming the first extra one. */
export const expectPositionals = (
  command: string,
  positionals: readonly string[],
  max: number,
): void => {
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument "${positionals[max]}"`, command);
  }
};
