import { Option } from 'commander';
import { DATA_DIR_ENV } from '../common/data-dir.js';

/** `--data-dir`, offered by every command: overrides LLAVA_DESK_HOME and the OS default. */
export function dataDirOption(): Option {
  return new Option(
    '--data-dir <folder>',
    `folder for models, chats, images, settings and jobs (default: $${DATA_DIR_ENV} or the OS app-data folder)`,
  );
}
