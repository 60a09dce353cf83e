#!/usr/bin/env bash
# Builds a release of the gateway into OUT (default dist/release):
#   gateway_<version>_<os>_<arch>.tar.gz   the static binary (CGO off, -trimpath), README.md, LICENSE,
#                                          config/ (reference.yaml and the sample configs)
#   checksums.txt                          sha256 of every archive (sha256sum -c checksums.txt)
#   CHANGELOG.md                           the commits since the previous tag, one line each
#   houseview-gateway-client-<v>.tgz       the JavaScript client (npm pack), when npm is here
#   the node image for linux/amd64 and linux/arm64 as an OCI archive, when a Docker engine with buildx is here
#
# usage: release.sh snapshot    any tree; version <last tag or v0.0.0>-SNAPSHOT-<short commit>
#        release.sh release     a clean tree at an exact vX.Y.Z tag; version = the tag
# Environment: OUT, PLATFORMS (default "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64").
# Nothing is published: upload OUT's files to the release page and push the image yourself.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=${1:-}
OUT=${OUT:-dist/release}
PLATFORMS=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
log() { echo "release: $*"; }
die() { echo "release: ERROR: $*" >&2; exit 1; }

commit=$(git rev-parse HEAD)
short=$(git rev-parse --short=12 HEAD)
last_tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null || true)
case "$mode" in
snapshot)
	version="${last_tag:-v0.0.0}-SNAPSHOT-$short"
	;;
release)
	[ -z "$(git status --porcelain)" ] || die "the tree has uncommitted changes"
	version=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null) || die "HEAD has no vX.Y.Z tag"
	[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "tag $version is not a semantic version"
	last_tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' "$version^" 2>/dev/null || true)
	;;
*) die "usage: $0 snapshot|release" ;;
esac

rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
log "version $version (commit $short) into $OUT"

for platform in $PLATFORMS; do
	os=${platform%/*} arch=${platform#*/}
	name="gateway_${version}_${os}_${arch}"
	dir="$OUT/$name"
	mkdir -p "$dir/config"
	log "build $os/$arch"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
		-ldflags "-s -w -X main.version=$version -X main.commit=$commit" -o "$dir/gateway" ./cmd/gateway
	cp README.md LICENSE "$dir/"
	cp config/*.yaml "$dir/config/"
	tar -C "$OUT" -czf "$OUT/$name.tar.gz" "$name"
	rm -rf "$dir"
done

# The changelog: one line per commit since the previous tag (merges left out).
range=${last_tag:+$last_tag..}HEAD
{
	echo "# $version"
	echo
	echo "Commits since ${last_tag:-the first commit}:"
	echo
	git log --no-merges --reverse --pretty='- %s (%h)' "$range"
} >"$OUT/CHANGELOG.md"

if command -v npm >/dev/null; then
	log "npm pack (JavaScript client)"
	(cd web && npm pack --silent --pack-destination "$OUT" >/dev/null)
else
	log "npm not found: JavaScript client package skipped"
fi

(cd "$OUT" && sha256sum -- *.tar.gz $(ls -- *.tgz 2>/dev/null) >checksums.txt)

if docker buildx version >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	log "image linux/amd64,linux/arm64 -> $OUT/image-$version.oci.tar"
	docker buildx build --platform linux/amd64,linux/arm64 \
		--build-arg VERSION="$version" --build-arg COMMIT="$commit" \
		-t "house-gateway:$version" --output "type=oci,dest=$OUT/image-$version.oci.tar" .
else
	log "no Docker engine with buildx here: image skipped (make image builds one for this machine)"
fi
log "done: $(cd "$OUT" && ls | tr '\n' ' ')"
