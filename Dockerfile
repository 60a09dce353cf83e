# Gateway node image: docker build -t house-gateway .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The web page and the zone database are embedded in the binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/gateway ./cmd/gateway

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
