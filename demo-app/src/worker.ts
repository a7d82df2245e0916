/** The demo's Web Worker: the replica, the dataflow engine and the sync client run here. */
import { exposeClientHost } from '@dataloom/client';

exposeClientHost();
