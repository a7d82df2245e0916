/** The Web Worker of the replica e2e page: the replica, dataflow engine and store live here. */
import { exposeClientHost } from '@dataloom/client';

exposeClientHost();
