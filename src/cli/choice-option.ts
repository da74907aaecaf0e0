/**
 * An option whose value is one of a fixed list: commander's choices() (listed in --help) with a
 * parser that fails as every esbench error does (`esbench: BAD_FLAG: ...`, exit 2) instead of
 * commander's own "error: option ... is invalid" line.
 */
import { Option } from 'commander';
import { EsbenchError } from '../core/errors.ts';

export function choiceOption<T extends string>(
  flags: string,
  description: string,
  choices: readonly T[],
  defaultValue?: T,
): Option {
  const option = new Option(flags, description).choices(choices);
  const name = option.long ?? flags;
  option.argParser((value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new EsbenchError('BAD_FLAG', `${name} must be one of ${choices.join(', ')} (got '${value}')`);
    }
    return value as T;
  });
  if (defaultValue !== undefined) option.default(defaultValue);
  return option;
}
