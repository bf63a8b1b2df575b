#!/usr/bin/env bash
# The images the upstream node e2e suite's [NodeConformance] specs pull, built offline under
# their upstream names (scripts/images.sh does the work; cached, so a second run only imports)
# and imported into containerd's k8s.io namespace. Their tags are not `latest`, so with
# --prepull-images=false the suite finds them present and never reaches a registry.
#
#   scripts/e2e-images.sh [build|import|list]   (default: import)
set -euo pipefail
exec "$(dirname "$0")/images.sh" "${1:-import}" pause e2e_busybox agnhost nonroot nonewprivs kitten \
    nginx nginx_new perl glibc_dns_testing
