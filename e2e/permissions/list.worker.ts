/** The Web Worker of the permissions e2e page: replica, dataflow engine and IndexedDB store. */
import { exposeClientHost } from '@dataloom/client';

exposeClientHost();
