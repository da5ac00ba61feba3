/** Shape of `facts.json`: what each Airbyte image needs at run time, from its Dockerfile. */

export interface ImageFacts {
  /** Path of the Dockerfile in airbyte-platform. */
  dockerfile: string;
  /** Base image of the final stage, `${ARG}` defaults resolved. */
  from: string;
  /** Bases of that base, built in the same repository, nearest first. */
  baseChain: string[];
  /** `USER` of the image, nearest layer first. */
  user: string;
  uid?: number;
  gid?: number;
  /** `ENTRYPOINT`, inherited from a base when the image sets none. */
  entrypoint: string[];
  /** Commands of `/entrypoint.sh`, when the image runs it. */
  entrypointScript?: string[];
  cmd: string[];
  expose: number[];
  /** Directories a RUN step creates or hands to the image user. */
  preparedForWriting: string[];
  /** What the entrypoint writes before the service starts; must be writable in the pod. */
  startupWrites: string[];
}

export interface ImagesFacts {
  provenance: {
    repository: string;
    tag: string;
    commit: string;
    /** Every file read, with its git blob id at the tag. */
    files: Record<string, string>;
  };
  /** By image repository (`airbyte/server`). */
  images: Record<string, ImageFacts>;
}
