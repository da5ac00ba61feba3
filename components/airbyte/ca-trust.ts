/**
 * A writable trust store for Airbyte's Java images under a read-only root filesystem.
 *
 * Every image built on `airbyte-base-java-image` starts with `/entrypoint.sh`, which runs
 * `update-ca-trust` before the service (airbyte-platform v2.0.0,
 * `airbyte-base-java-image/entrypoint.sh`); that rewrites `/etc/pki/ca-trust/extracted` and
 * exits the container when it cannot. The chart answers with a writable root. Here an init
 * container from the same image copies the image's `/etc/pki/ca-trust` into an emptyDir that the
 * service then mounts there, so the root stays read-only and only the trust store is writable.
 * A CA bundle, when given, goes into `source/anchors/`, where `update-ca-trust` adds it to the
 * extracted bundles the JVM and PostgreSQL's JDBC driver read.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  Container,
  HELPER_RESOURCES,
  Volume,
  containerSecurityContext,
  resources,
} from "../lib/kube";

/** The directory `update-ca-trust` writes into (`extracted/`) and reads anchors from. */
export const CA_TRUST_DIR = "/etc/pki/ca-trust";
/** PEM bundle `update-ca-trust` extracts; PostgreSQL's JDBC `sslrootcert` for verify-ca/full. */
export const CA_BUNDLE_PEM = `${CA_TRUST_DIR}/extracted/pem/tls-ca-bundle.pem`;
/** Key of the CA bundle in the Secret named by `caBundleSecretName`. */
export const CA_BUNDLE_KEY = "ca.crt";

const VOLUME = "ca-trust";
const BUNDLE_VOLUME = "ca-bundle";
const COPY_DIR = "/ca-trust";
const BUNDLE_DIR = "/ca-bundle";
const ANCHOR = "airbyte-custom-ca.crt";

export interface CaTrust {
  /** Volumes the pod needs: the emptyDir, and the CA Secret when one is given. */
  volumes: Volume[];
  /** The service container's mount of the emptyDir over {@link CA_TRUST_DIR}. */
  mount: { name: string; mountPath: string };
  /** The init container that fills the emptyDir from `image`. */
  initContainer(image: string): Container;
}

/**
 * The trust-store volume, mount and init container. `caBundleSecretName`: a Secret in the pod's
 * namespace with a PEM bundle under `ca.crt`; not optional, so a missing Secret holds the pod
 * in `ContainerCreating` rather than starting it without the CA.
 */
export function caTrust(caBundleSecretName?: pulumi.Input<string>): CaTrust {
  const copy = [`cp -R ${CA_TRUST_DIR}/. ${COPY_DIR}/`];
  if (caBundleSecretName) {
    copy.push(`cp -L ${BUNDLE_DIR}/${ANCHOR} ${COPY_DIR}/source/anchors/${ANCHOR}`);
  }
  const volumes: Volume[] = [{ name: VOLUME, emptyDir: { sizeLimit: "64Mi" } }];
  if (caBundleSecretName) {
    volumes.push({
      name: BUNDLE_VOLUME,
      secret: { secretName: caBundleSecretName, items: [{ key: CA_BUNDLE_KEY, path: ANCHOR }] },
    });
  }
  return {
    volumes,
    mount: { name: VOLUME, mountPath: CA_TRUST_DIR },
    initContainer: (image) => ({
      name: "ca-trust",
      image,
      // `command` replaces the image's entrypoint, which would run update-ca-trust here too.
      command: ["/bin/bash", "-c", copy.join(" && ")],
      resources: resources(HELPER_RESOURCES),
      securityContext: containerSecurityContext(),
      volumeMounts: [
        { name: VOLUME, mountPath: COPY_DIR },
        ...(caBundleSecretName
          ? [{ name: BUNDLE_VOLUME, mountPath: BUNDLE_DIR, readOnly: true }]
          : []),
      ],
    }),
  };
}
