/** The Web Worker of the log-reset e2e page: the replica, dataflow engine and store live here. */
import { exposeClientHost } from '@dataloom/client';

exposeClientHost();
