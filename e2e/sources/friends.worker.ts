/** The Web Worker of the datsync e2e page: replica, dataflow engine and IndexedDB store. */
import { exposeClientHost } from '@dataloom/client';

exposeClientHost();
