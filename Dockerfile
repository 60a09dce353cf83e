# Gateway node image: docker build -t house-gateway .
# `gateway version` and gateway_build_info print the build args (the image has
# no .git); the Makefile passes them: make image, or
#   docker build --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) -t house-gateway .
# Built on the build machine's platform for each target platform (docker buildx
# build --platform linux/amd64,linux/arm64 .: make release).
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG VERSION=dev
ARG COMMIT=unknown
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The web page and the zone database are embedded in the binary.
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/gateway ./cmd/gateway

FROM alpine:3.20
# /secrets belongs to the node's user, and so does a fresh volume mounted
# there (Docker copies the directory's owner into it): `gateway secrets init`
# writes the secrets there, mode 0600, for the nodes to read.
RUN addgroup -S gateway && adduser -S -D -H -G gateway -h /app gateway \
 && mkdir -p /secrets && chown gateway:gateway /secrets && chmod 0700 /secrets
WORKDIR /app
# On PATH, so that `docker compose exec gateway-1 gateway token ...` works.
COPY --from=build /out/gateway /usr/local/bin/gateway
COPY --from=build /src/config /app/config
USER gateway
EXPOSE 8080 9000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD wget -q -T 2 -O /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["gateway"]
CMD ["serve", "-config", "/app/config/docker.yaml"]
