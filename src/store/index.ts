import type { Config } from '../config';
import { EmbeddedStore } from './embedded/embedded-store';
import { FilePersistence } from './embedded/lowdb';
import type { Store } from './store';

/** The store the configuration asks for, not yet opened. */
export function createStore(config: Pick<Config, 'dataFile' | 'storeFsyncMs'>): Store {
  return new EmbeddedStore(new FilePersistence(config.dataFile, config.storeFsyncMs));
}
