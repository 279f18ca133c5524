/** Where the service serves the playground page: the gateway mounts it, and answers link into it. */
export const PLAYGROUND_PATH = '/playground';
