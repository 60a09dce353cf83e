# Gateway node image: docker build -t house-gateway .
# `gateway version` prints the build args (the image has no .git):
#   docker build --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) -t house-gateway .
FROM golang:1.26 AS build
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The web page and the zone database are embedded in the binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/gateway ./cmd/gateway

FROM alpine:3.20
RUN addgroup -S gateway && adduser -S -D -H -G gateway -h /app gateway
WORKDIR /app
COPY --from=build /out/gateway /app/gateway
COPY --from=build /src/config /app/config
USER gateway
EXPOSE 8080 9000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD wget -q -T 2 -O /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/app/gateway"]
CMD ["serve", "-config", "/app/config/docker.yaml"]
