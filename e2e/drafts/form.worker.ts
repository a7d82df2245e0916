/** The Web Worker of the drafts e2e page: replica, dataflow engine and IndexedDB store. */
import { exposeClientHost } from '@dataloom/client';

exposeClientHost();
